/**
 * The replay of etcd's own history, with a real etcd: a real agent session's
 * revisions replay to the requests the agent sent (live, and from an
 * `etcdctl snapshot save` backup), --from-revision in the middle of a plug,
 * a compacted start revision, --follow (a shadow agent) and the --spp-ctl plan.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { connectEtcd } from '../src/etcd/connect';
import { keys } from '../src/protocol/keys';
import type { ReplayReport } from '../src/replay';
import { compareRequests, replay } from '../src/replay';
import { serveBackup } from '../src/replay/etcd-backup';
import { readHistory } from '../src/replay/etcd-history';
import type { HttpRequest } from '../src/sppctl/commands';
import { runCli } from './helpers/cli';
import { call } from './helpers/emulator';
import { pyBind, pyUnbind, waitForValue, waitGone, waitUp } from './helpers/neutron';
import { BIN, spawnNode } from './helpers/spawn';
import { nicsReady, requests, type System, startSystem, until } from './helpers/system';

const run = promisify(execFile);
const A = 'a0000000-0000-0000-0000-00000000000a';
const B = 'b0000000-0000-0000-0000-00000000000b';
const C = 'c0000000-0000-0000-0000-00000000000c';
const MAC_A = 'fa:16:3e:00:00:0a';
const MAC_B = 'fa:16:3e:00:00:0b';
const MAC_C = 'fa:16:3e:00:00:0c';

/**
 * A real agent session: a bind, a VLAN bind, a bad bind_port, an unbind, and
 * the unbound port's vhost re-used by another port. Returns the mutating
 * requests the agent sent (the emulator's log).
 */
async function agentSession(s: System): Promise<HttpRequest[]> {
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: A, vhostId: 0, phys: 'phys1', mac: MAC_A });
  await waitUp(s.client, s.host, A);
  await pyBind(s.client, s.host, { portId: C, vhostId: 3, phys: 'phys2', mac: MAC_C, vlan: 100 });
  await waitUp(s.client, s.host, C);
  await s.client.put(keys.bindPort(s.host, 'bad')).value('{"vhost_id": 1, "mac_address": ');
  await s.client.put(keys.action(s.host, 'bad')).value('plug');
  await waitForValue(s.client, keys.portStatus(s.host, 'bad'), (v) => v !== undefined);
  await pyUnbind(s.client, s.host, A);
  await waitGone(s.client, s.host, A);
  await pyBind(s.client, s.host, { portId: B, vhostId: 0, phys: 'phys1', mac: MAC_B });
  await waitUp(s.client, s.host, B);
  await s.agent!.controller.idle();
  const sent = requests(s) as HttpRequest[];
  await s.stopAgent();
  return sent;
}

async function replayEtcd(t: ExecutionContext, endpoints: readonly string[], source: string, from?: number): Promise<ReplayReport> {
  const client = connectEtcd({ endpoints: [...endpoints] });
  t.teardown(() => client.close());
  const history = await readHistory(client, { source, host: 'spp4', ...(from !== undefined ? { fromRevision: from } : {}) });
  return replay([history.input], { host: 'spp4', requests: true });
}

function classifierCommands(r: ReplayReport): string[] {
  return r.hosts[0]!.commands.filter((c) => c.includes('classifier_table'));
}

test('a real agent session replays from the live history and from an etcdctl snapshot save backup with the same spp-ctl requests the agent sent', async (t) => {
  const s = await startSystem(t);
  const sent = await agentSession(s);
  t.true(sent.length > 40, 'the layout and the plugs');

  const live = await replayEtcd(t, s.etcd.endpoints, 'live');
  const host = live.hosts[0]!;
  const replayed = host.requests!;
  const recorded = sent.map((r) => `${r.method} ${r.path}${r.body !== undefined ? ` ${JSON.stringify(r.body)}` : ''}`);
  t.is(replayed.length, sent.length, `replayed:\n${replayed.join('\n')}\nrecorded:\n${recorded.join('\n')}`);
  const parsed = replayed.map((line): HttpRequest => {
    const [method, path, ...body] = line.split(' ');
    return { method: method as HttpRequest['method'], path: path!, ...(body.length > 0 ? { body: JSON.parse(body.join(' ')) as never } : {}) };
  });
  t.deepEqual(compareRequests(sent, parsed).differences, []);
  t.deepEqual(classifierCommands(live), [
    `vf 1: classifier_table add mac ${MAC_A} ring:0`,
    `vf 2: classifier_table add vlan 100 ${MAC_C} ring:6`,
    `vf 1: classifier_table del mac ${MAC_A} ring:0`,
    `vf 1: classifier_table add mac ${MAC_B} ring:0`,
  ]);
  const states = Object.fromEntries(host.ports.map((p) => [p.portId, p.state]));
  t.is(states[A], 'removed');
  t.is(states[B], 'plugged.steady');
  t.is(states[C], 'plugged.steady');
  t.regex(host.ports.find((p) => p.portId === 'bad')!.lastError ?? host.ports.find((p) => p.portId === 'bad')!.desired, /bind_port\/spp4\/bad: not valid JSON/);

  // the CLI over the same cluster: the same commands; the bad bind_port is a broken invariant (exit 1)
  const cli = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', 'spp4', '--format', 'json']);
  t.is(cli.code, 1, cli.err);
  const fromCli = JSON.parse(cli.out) as ReplayReport;
  t.deepEqual(
    fromCli.hosts[0]!.invariants.map((v) => [v.code, v.keys]),
    [['invalid-value', [keys.bindPort('spp4', 'bad')]]],
  );
  t.deepEqual(fromCli.hosts[0]!.commands, host.commands);
  t.is(fromCli.inputs[0]!.format, 'etcd-history');

  // the same history from a real backup file
  const dir = mkdtempSync(join(tmpdir(), 'spp-replay-backup-'));
  const file = join(dir, 'backup.db');
  await run('etcdctl', ['--endpoints', s.etcd.endpoints.join(','), 'snapshot', 'save', file], { env: { ...process.env, ETCDCTL_API: '3' } });
  const served = await serveBackup(file);
  t.teardown(() => served.close());
  const backup = await replayEtcd(t, served.endpoints, file);
  t.deepEqual(backup.hosts[0]!.requests, replayed, 'the restore keeps the revisions: the backup replays like the live history');
  t.deepEqual(backup.hosts[0]!.trace, undefined);
  // a process of its own with a temp dir of its own: other tests' etcds come and go in the shared one
  const ownTmp = mkdtempSync(join(tmpdir(), 'spp-replay-tmp-'));
  t.teardown(() => rmSync(ownTmp, { recursive: true, force: true }));
  const fromFile = await run(process.execPath, [BIN, 'replay', file, '--host', 'spp4', '--format', 'json'], { env: { ...process.env, TMPDIR: ownTmp } }).then(
    (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
  );
  t.is(fromFile.code, 1, fromFile.err);
  const fileReport = JSON.parse(fromFile.out) as ReplayReport;
  t.is(fileReport.inputs[0]!.format, 'etcd-snapshot-file');
  t.deepEqual(fileReport.hosts[0]!.commands, host.commands);
  t.deepEqual(readdirSync(ownTmp), [], "the backup's temporary etcd and data are gone");

  // a file that is not a snapshot
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, Buffer.concat([Buffer.alloc(64), Buffer.from('not bolt')]));
  const bad = await runCli(['replay', junk]);
  t.is(bad.code, 2);
  t.regex(bad.err, /junk\.db: not an etcd snapshot/);
});

test('--from-revision in the middle of a plug: the listing holds the claim and bind_port, the plug follows; a compacted start revision names the compact revision', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: A, vhostId: 0, phys: 'phys1', mac: MAC_A });
  await waitUp(s.client, s.host, A);
  await s.agent!.controller.idle();
  await s.stopAgent();
  const plugAt = Number((await s.client.get(keys.action(s.host, A)).exec()).kvs[0]!.mod_revision);
  const bindAt = Number((await s.client.get(keys.bindPort(s.host, A)).exec()).kvs[0]!.mod_revision);
  t.true(bindAt < plugAt);

  const cli = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', 'spp4', '--from-revision', String(plugAt), '--step']);
  t.is(cli.code, 0, cli.err);
  t.regex(cli.out, new RegExp(`\\[${plugAt - 1}\\] list of \\d+ keys at revision ${plugAt - 1}`), 'the keys before the plug are the listing');
  t.regex(cli.out, new RegExp(`\\[${plugAt}\\] put /spp/openstack/action/spp4/${A} = plug\\n(.*\\n)*?\\s+vf 1: classifier_table add mac ${MAC_A} ring:0`));
  t.regex(cli.out, new RegExp(`${A}  plugged.steady  vhost 0`));

  // compact past the bind: the history before it is gone
  await run('etcdctl', ['--endpoints', s.etcd.endpoints.join(','), 'compact', String(plugAt)], { env: { ...process.env, ETCDCTL_API: '3' } });
  const compacted = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--from-revision', String(bindAt)]);
  t.is(compacted.code, 2);
  t.regex(
    compacted.err,
    new RegExp(`revision ${bindAt} is compacted: .*compact revision ${plugAt}.*oldest revision it can replay is ${plugAt + 1}.*--from-revision ${plugAt + 1}`),
  );
  // without --from-revision it starts at the oldest revision etcd holds
  const oldest = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--step']);
  t.is(oldest.code, 0, oldest.err);
  t.regex(oldest.out, new RegExp(`\\[${plugAt}\\] list of \\d+ keys at revision ${plugAt}`));
});

test('--follow prints a bind made after it started, sends nothing, and ends cleanly on Ctrl-C', async (t) => {
  const s = await startSystem(t, { agent: false });
  const out = spawnNode(t, ['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', 'spp4', '--follow']);
  await until(() => out.text().includes('following etcd'), 'the follow line', 20_000);
  await pyBind(s.client, s.host, { portId: A, vhostId: 0, phys: 'phys1', mac: MAC_A });
  await until(() => out.text().includes(`vf 1: classifier_table add mac ${MAC_A} ring:0`), 'the shadow plug', 20_000);
  out.child.kill('SIGINT');
  t.is(await out.exited, 0, out.text());
  const text = out.text();
  t.regex(text, new RegExp(`\\[\\d+\\] host spp4: put /spp/openstack/action/spp4/${A} = plug`));
  t.regex(text, /stopped following; the hosts now:/);
  t.regex(text, new RegExp(`${A}  plugged.steady  vhost 0`));
  t.deepEqual(requests(s), [], 'nothing reached spp-ctl');
  t.is(await s.client.get(keys.portStatus(s.host, A)).string(), null, 'nothing was written to etcd');
});

test('--spp-ctl plans exactly the removal of a stale classifier entry and its re-add, with GET requests only', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: A, vhostId: 0, phys: 'phys1', mac: MAC_A });
  await waitUp(s.client, s.host, A);
  await s.agent!.controller.idle();
  await s.stopAgent();
  // the entry goes stale behind the agent's back: another MAC on the port's ring
  const stale = 'fa:16:3e:99:99:99';
  t.is((await call(s.sim.url, 'PUT', '/v1/vfs/1/classifier_table', { action: 'del', type: 'mac', mac_address: MAC_A, port: 'ring:0' })).status, 204);
  t.is((await call(s.sim.url, 'PUT', '/v1/vfs/1/classifier_table', { action: 'add', type: 'mac', mac_address: stale, port: 'ring:0' })).status, 204);
  s.sim.emulator.clearLog();

  const cli = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', 'spp4', '--spp-ctl', s.sim.url]);
  t.is(cli.code, 0, cli.err);
  const planned = cli.out
    .split('\n')
    .filter((l) => /^ {4}vf \d+: /.test(l))
    .map((l) => l.trim());
  t.deepEqual(planned, [`vf 1: classifier_table del mac ${stale} ring:0`, `vf 1: classifier_table add mac ${MAC_A} ring:0`], cli.out);
  t.regex(cli.out, /observed: the vfs start as spp-ctl at .* reports them now \(read with GET only/);
  const log = s.sim.emulator.log();
  t.true(log.length >= 2, 'spp-ctl was read');
  t.deepEqual([...new Set(log.map((e) => e.method))], ['GET'], 'no mutating request reached spp-ctl');
  t.deepEqual(
    (await s.vfStatus(1)).classifier_table.map((e) => e.value),
    ['FA:16:3E:99:99:99'],
    'spp-ctl is unchanged',
  );
});

test('spp viz --replay --etcd-endpoints: the slider runs over the revisions of the history', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: A, vhostId: 0, phys: 'phys1', mac: MAC_A });
  await waitUp(s.client, s.host, A);
  await s.stopAgent();
  const plugAt = Number((await s.client.get(keys.action(s.host, A)).exec()).kvs[0]!.mod_revision);
  const out = spawnNode(t, ['viz', '--replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', 'spp4', '--listen', '127.0.0.1:0']);
  const [, url] = await out.waitFor(/visualizer (http:\/\/127\.0\.0\.1:\d+)/, 'the URL');
  const { frames } = (await (await fetch(`${url}/api/frames`)).json()) as {
    frames: Array<{ revision: number; label: string; view: { ports: Array<{ portId: string; state: string }> } }>;
  };
  const revisions = frames.map((f) => f.revision);
  t.deepEqual(
    revisions,
    [...revisions].sort((a, b) => a - b),
    'one frame per revision, in order',
  );
  const plug = frames.find((f) => f.revision === plugAt)!;
  t.regex(plug.label, new RegExp(`put /spp/openstack/action/spp4/${A} = plug`));
  t.is(plug.view.ports.find((p) => p.portId === A)?.state.split('.')[0], 'plugged');
  t.is(frames[0]!.view.ports.length, 0, 'before the plug there is no port');
  out.child.kill('SIGINT');
  t.is(await out.exited, 0);
});

test('a history longer than one watch window (1,000 revisions) is read whole, in order, each revision once, also from a revision that is not a window start', async (t) => {
  const s = await startSystem(t, { agent: false, setup: false });
  const n = 2600;
  let i = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let k = i++; k < n; k = i++) await s.client.put(keys.action('spp4', `p${k % 50}`)).value(k % 2 === 0 ? 'plug' : 'unplug');
    }),
  );
  const client = connectEtcd({ endpoints: s.etcd.endpoints });
  t.teardown(() => client.close());
  const head = Number((await client.get('/').exec()).header.revision);
  for (const from of [1, 777]) {
    const read = await readHistory(client, { source: 'test', fromRevision: from });
    const revisions = read.input.events.map((e) => e.revision);
    const expected = Array.from({ length: head - Math.max(from, 2) + 1 }, (_, k) => Math.max(from, 2) + k);
    t.deepEqual(revisions, expected, `from ${from}`);
  }
});
