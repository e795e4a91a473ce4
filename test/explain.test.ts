import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { VERDICTS } from '../src/explain/explain';
import { pythonJson } from '../src/protocol/codecs';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { pyBind, pyUnbind, waitUp } from './helpers/neutron';
import { opsUrl } from './helpers/ops';
import { nicsReady, type System, startSystem, until } from './helpers/system';

interface Explained {
  readonly code: number;
  readonly verdict: string;
  readonly up: boolean;
  readonly first: string;
  readonly facts: readonly string[];
  readonly text: string;
}

/** `spp explain` as an operator runs it: JSON and text, with the agent's ops endpoint and spp-ctl when given. */
async function explain(s: System, portId: string, opts: { ops?: string; sppCtl?: boolean } = {}): Promise<Explained> {
  const args = ['explain', '--host', s.host, '--port-id', portId, '--etcd-endpoints', s.etcd.endpoints.join(',')];
  if (opts.ops) args.push('--ops', opts.ops);
  if (opts.sppCtl !== false) args.push('--spp-ctl', s.sim.url);
  const json = await runCli([...args, '--format', 'json']);
  const text = await runCli(args);
  if (json.err) throw new Error(json.err);
  const e = JSON.parse(json.out) as { verdict: string; up: boolean; sentences: Array<{ text: string; facts: string[] }> };
  if (json.code !== text.code) throw new Error('text and json exit differently');
  return { code: json.code, verdict: e.verdict, up: e.up, first: e.sentences[0]!.text, facts: e.sentences[0]!.facts, text: text.out };
}

const id = (n: number): string => `c0000000-0000-0000-0000-${String(n).padStart(12, '0')}`;
const UP = { portId: id(1), vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0c:01' };

async function rawBind(s: System, portId: string, bind: Record<string, unknown>, action: string | null = 'plug'): Promise<void> {
  await s.client.put(keys.bindPort(s.host, portId)).value(pythonJson(bind));
  if (action) await s.client.put(keys.action(s.host, portId)).value(action);
}

test('spp explain: the verdict and sentence of every case, each set up for real; exit 0 only when up and consistent', async (t) => {
  const s = await startSystem(t, { settings: { ops: '127.0.0.1:0' } });
  const ops = await opsUrl(s.agent);
  await nicsReady(s);

  await pyBind(s.client, s.host, UP);
  await waitUp(s.client, s.host, UP.portId);
  let e = await explain(s, UP.portId, { ops });
  t.is(e.code, 0);
  t.is(e.verdict, 'up');
  t.regex(
    e.first,
    /^Port .* is up: port_status = up for FA:16:3E:00:0C:01 on vhost 0 of spp_vf 1, and spp-ctl shows spp_vf 1 classifying it to ring:0 and the agent's port machine is plugged\.(steady|reasserting)\.$/,
  );
  t.notRegex(e.text, /Not checked/, 'everything was asked');

  t.true(
    e.facts.some((f) => /^\/spp\/openstack\/bind_port\/spp4\/c0000000-0000-0000-0000-000000000001 \(mod revision \d+\) = /.test(f)),
    'keys with their revisions',
  );
  t.true(
    e.facts.some((f) => f.includes('classifier_table for ring:0: mac FA:16:3E:00:0C:01 -> ring:0')),
    'the spp_vf entry',
  );
  t.regex(e.text, /^port c0000000-0000-0000-0000-000000000001 on host spp4: UP \(up; etcd revision \d+\)\n- Port /);

  // without --spp-ctl: spp_vf itself is not asked, and the text says so; without --ops, neither is the agent
  e = await explain(s, UP.portId, { ops, sppCtl: false });
  t.deepEqual([e.code, e.verdict], [0, 'up']);
  t.regex(e.first, /, and the agent's cached status of spp_vf 1 classifies it to ring:0 and the agent's port machine is plugged\.(steady|reasserting)\.$/);
  t.regex(e.text, /- Not checked: spp_vf 1 itself \(spp-ctl was not asked; give --spp-ctl or SPP_CTL_URL\)\.\n/);
  e = await explain(s, UP.portId, { sppCtl: false });
  t.regex(e.first, /^Port .* is up: port_status = up for FA:16:3E:00:0C:01 on vhost 0 of spp_vf 1\.$/, 'nothing confirmed beyond the keys');
  t.regex(e.text, /- Not checked: spp_vf 1 itself \(.*\); the agent's own view \(its ops endpoint was not read; give --ops or SPP_OPS\)\.\n/);

  // a host etcd has no key of: named as unknown, not blamed on neutron
  const unknown = await runCli([
    'explain',
    '--host',
    'no-such-host',
    '--port-id',
    UP.portId,
    '--etcd-endpoints',
    s.etcd.endpoints.join(','),
    '--format',
    'json',
  ]);
  t.is(unknown.code, 1);
  const u = JSON.parse(unknown.out) as { verdict: string; sentences: Array<{ text: string }> };
  t.is(u.verdict, 'unknown-host');
  t.regex(u.sentences[0]!.text, /^Host no-such-host is unknown: etcd has no key of it/);
  t.notRegex(u.sentences[0]!.text, /neutron/);

  e = await explain(s, id(99));
  t.deepEqual([e.code, e.verdict], [1, 'no-keys']);

  await s.client.put(keys.action(s.host, id(2))).value('plug');
  e = await explain(s, id(2));
  t.deepEqual([e.code, e.verdict], [1, 'no-bind-port']);
  t.regex(e.first, /has no bind_port on host spp4/);

  await rawBind(s, id(3), { vhost_id: 1, mac_address: 'fa:16:3e:00:0c:03' }, null);
  e = await explain(s, id(3));
  t.deepEqual([e.code, e.verdict], [1, 'waiting-for-action']);

  // a second port on vhost 0, which the vhost key gives to UP
  await rawBind(s, id(4), { vhost_id: 0, mac_address: 'fa:16:3e:00:0c:04' });
  e = await explain(s, id(4));
  t.deepEqual([e.code, e.verdict], [1, 'vhost-claimed']);
  t.regex(e.first, new RegExp(`vhost 0 is claimed by port ${UP.portId}`));
  t.true(e.facts.some((f) => f.startsWith('/spp/openstack/vhost/spp4/phys1/0 (mod revision') && f.endsWith(JSON.stringify(UP.portId))));

  for (const [n, bind, field] of [
    [5, { vhost_id: 1, mac_address: 'not-a-mac' }, /mac_address/],
    [6, { vhost_id: 1, mac_address: 'fa:16:3e:00:0c:06', vlan_id: 5000 }, /vlan/],
    [7, { vhost_id: 99, mac_address: 'fa:16:3e:00:0c:07' }, /field vhost_id: vhost 99 is not on host spp4/],
  ] as const) {
    await rawBind(s, id(n), bind);
    await until(async () => (await s.client.get(keys.portStatus(s.host, id(n))).string())?.startsWith('error:'), `port ${n} reported`);
    e = await explain(s, id(n));
    t.deepEqual([e.code, e.verdict], [1, 'invalid-input'], `port ${n}`);
    t.regex(e.first, field);
    t.true(
      e.facts.some((f) => f.startsWith(`/spp/openstack/port_status/spp4/${id(n)} (mod revision`) && f.includes('error: ')),
      'port_status says so too',
    );
  }

  // spp-ctl fails every classifier command: the port retries, and explain names the last error
  await fetch(`${s.sim.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ count: 1000, path: 'classifier_table$' }) });
  const failing = { portId: id(8), vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0c:08' };
  await pyBind(s.client, s.host, failing);
  await until(() => s.agent!.controller.view().ports.find((p) => p.portId === failing.portId)?.state === 'backoff', 'the port in backoff');
  e = await explain(s, failing.portId, { ops });
  t.deepEqual([e.code, e.verdict], [1, 'sppctl-error']);
  t.regex(e.first, /^The last spp-ctl error for port c0000000-0000-0000-0000-000000000008: PUT \/v1\/vfs\/1\/classifier_table: 500 Internal Server Error/);
  await fetch(`${s.sim.url}/_sim/faults`, { method: 'DELETE' });
  await waitUp(s.client, s.host, failing.portId, 40_000);

  // behind the agent's back: the entry deleted, then pointing at another MAC
  s.sim.emulator.vf(1).execute(`classifier_table del mac ${UP.mac} ring:0`);
  e = await explain(s, UP.portId, { ops });
  t.deepEqual([e.code, e.verdict], [1, 'classifier-missing']);
  t.regex(
    e.first,
    /^spp_vf 1 has no classifier entry for port c0000000-0000-0000-0000-000000000001: nothing on ring:0 \(vhost 0\); it should be FA:16:3E:00:0C:01\.$/,
  );
  s.sim.emulator.vf(1).execute('classifier_table add mac 02:00:00:00:0c:99 ring:0');
  e = await explain(s, UP.portId, { ops });
  t.deepEqual([e.code, e.verdict], [1, 'classifier-other-mac']);
  t.regex(e.first, /points at 02:00:00:00:0C:99, not at port c0000000-0000-0000-0000-000000000001's FA:16:3E:00:0C:01/);
  s.sim.emulator.vf(1).execute('classifier_table del mac 02:00:00:00:0c:99 ring:0');
  s.sim.emulator.vf(1).execute(`classifier_table add mac ${UP.mac} ring:0`);
  t.is((await explain(s, UP.portId, { ops })).verdict, 'up');

  // spp_vf 2 leaves spp-ctl
  await fetch(`${s.sim.url}/_sim/vfs/2/appear-after`, { method: 'POST', body: JSON.stringify({ ms: 600_000 }) });
  const onVf2 = { portId: id(9), vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0c:09' };
  await pyBind(s.client, s.host, onVf2);
  e = await explain(s, onVf2.portId, { ops });
  t.deepEqual([e.code, e.verdict], [1, 'vf-missing']);
  t.regex(e.first, /^spp_vf 2, which serves vhost 2, is not running: spp-ctl's GET \/v1\/processes lists primary, vf:1\.$/);

  // an unplug caught half-way: spp-ctl answers slowly
  s.sim.emulator.setLatency(1500);
  await pyUnbind(s.client, s.host, UP.portId);
  await until(() => s.agent!.controller.view().ports.find((p) => p.portId === UP.portId)?.state === 'unplugging', 'unplugging');
  e = await explain(s, UP.portId, { ops, sppCtl: false });
  t.deepEqual([e.code, e.verdict], [1, 'unplugging']);
  t.regex(e.first, /is being unplugged: action is unplug; the agent clears vhost 0's classifier entry on spp_vf 1/);
  s.sim.emulator.setLatency(0);

  // the agent stops: its liveness key goes with its lease
  await s.stopAgent();
  await pyBind(s.client, s.host, { portId: id(10), vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:0c:0a' });
  e = await explain(s, id(10), { ops });
  t.deepEqual([e.code, e.verdict], [1, 'agent-down']);
  t.regex(e.first, /^The agent of host spp4 is down: the liveness key \/spp\/openstack\/agent\/spp4 is missing/);
  t.regex(e.text, /The agent's ops endpoint at http:\/\/127\.0\.0\.1:\d+ could not be reached/);
});

test('spp explain: waiting for the NIC while it is built, and a NIC that cannot be built (its spp_vf never connected)', async (t) => {
  const s = await startSystem(t, { agent: false, settings: { ops: '127.0.0.1:0' } });
  await fetch(`${s.sim.url}/_sim/vfs/2/appear-after`, { method: 'POST', body: JSON.stringify({ ms: 600_000 }) });
  s.sim.emulator.setLatency(700);
  const onVf1 = { portId: id(11), vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0c:0b' };
  const onVf2 = { portId: id(12), vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0c:0c' };
  await pyBind(s.client, s.host, onVf1);
  await pyBind(s.client, s.host, onVf2);
  s.startAgent({ ops: '127.0.0.1:0' });
  const ops = await opsUrl(s.agent);
  await until(() => s.agent!.controller.view().nics.find((n) => n.secId === 1)?.state === 'building', 'NIC 1 building');
  let e = await explain(s, onVf1.portId, { ops, sppCtl: false });
  t.deepEqual([e.code, e.verdict], [1, 'waiting-for-nic']);
  t.regex(e.first, /^Port c0000000-0000-0000-0000-000000000011 waits for its NIC: spp_vf 1 is building; the port plugs once it is ready\.$/);

  await until(() => s.agent!.controller.view().nics.find((n) => n.secId === 2)?.state === 'retryWait', 'NIC 2 failed once');
  e = await explain(s, onVf2.portId, { ops, sppCtl: false });
  t.deepEqual([e.code, e.verdict], [1, 'nic-not-built']);
  t.regex(e.first, /^spp_vf 2 is not built: the agent's NIC is retryWait because spp_vf 2 .* is not connected to spp-ctl/);
  s.sim.emulator.setLatency(0);
  await waitUp(s.client, s.host, onVf1.portId, 20_000);
  t.is((await explain(s, onVf1.portId, { ops })).code, 0);
});

test('spp explain --help lists every verdict with its meaning, in the order they are checked', async (t) => {
  const help = await runCli(['explain', '--help']);
  t.is(help.code, 0);
  const listed = [...help.out.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]);
  t.deepEqual(listed.slice(0, Object.keys(VERDICTS).length), Object.keys(VERDICTS));
  const docs = readFileSync(join(__dirname, '..', '..', 'docs', 'operations.md'), 'utf8');
  for (const verdict of Object.keys(VERDICTS)) t.true(docs.includes(`\`${verdict}\``), `docs/operations.md names ${verdict}`);
});

test("the visualizer's port panel carries the same explanation as spp explain", async (t) => {
  const s = await startSystem(t, { agent: false });
  // no re-put of up: the keys' revisions stay still between the page and the CLI
  s.startAgent({ ops: '127.0.0.1:0', ui: '127.0.0.1:0', reassert: 'off' });
  const ops = await opsUrl(s.agent);
  const ui = (await s.agent!.viz)!.url;
  await nicsReady(s);
  await pyBind(s.client, s.host, UP);
  await waitUp(s.client, s.host, UP.portId);
  await rawBind(s, id(5), { vhost_id: 1, mac_address: 'not-a-mac' });
  await until(async () => (await s.client.get(keys.portStatus(s.host, id(5))).string())?.startsWith('error:'), 'reported');
  await s.agent!.controller.idle();
  const page = (await (await fetch(new URL('/api/view', ui))).json()) as {
    rows: Array<{ portId: string; explanation?: { verdict: string; sentences: Array<{ text: string; facts: string[] }> } }>;
  };
  for (const portId of [UP.portId, id(5)]) {
    const row = page.rows.find((r) => r.portId === portId)!;
    const cli = await explain(s, portId, { ops, sppCtl: false });
    t.is(row.explanation?.verdict, cli.verdict, portId);
    t.is(row.explanation?.sentences[0]?.text, cli.first);
    t.deepEqual(row.explanation?.sentences[0]?.facts, cli.facts);
  }
  t.is(page.rows.find((r) => r.portId === UP.portId)!.explanation!.verdict, 'up');
  t.is(page.rows.find((r) => r.portId === id(5))!.explanation!.verdict, 'invalid-input');
});
