/**
 * The replay on inputs made by real tools: `etcdctl get --prefix /spp -w json`
 * against a real etcd holding the seed fixture, and the `--record` event log
 * of a real agent plugging and unplugging a port.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test, { type ExecutionContext } from 'ava';
import { startAgent } from '../src/daemon/daemon';
import { Recorder, recordExchanges } from '../src/daemon/recorder';
import { createLogger } from '../src/log';
import type { ReplayReport } from '../src/replay';
import { compareRequests, requestText } from '../src/replay';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { runCli } from './helpers/cli';
import { parseEtcdctlText, withEtcd } from './helpers/etcd';
import { FIXTURES } from './helpers/fixtures';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, requests, type System, startSystem, until } from './helpers/system';

const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const MAC = 'fa:16:3e:a0:da:db';
const run = promisify(execFile);

test('etcdctl -w json of the seed-one-plugged keys replays like the text snapshot, with etcd revisions', async (t) => {
  const text = readFileSync(join(FIXTURES, 'seed-one-plugged.etcdctl.txt'), 'utf8');
  const file = join(mkdtempSync(join(tmpdir(), 'spp-replay-')), 'snapshot.json');
  const header = await withEtcd(t, async (etcd, client) => {
    for (const [k, v] of Object.entries(parseEtcdctlText(text))) await client.put(k).value(v);
    const { stdout } = await run('etcdctl', ['--endpoints', etcd.endpoints.join(','), 'get', '--prefix', '/spp', '-w', 'json'], {
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    writeFileSync(file, stdout);
    return (JSON.parse(stdout) as { header: { revision: number } }).header.revision;
  });
  t.true(header >= 9, 'etcd counted every put');

  const fromJson = await runCli(['replay', file, '--format', 'json']);
  t.is(fromJson.code, 0, fromJson.err);
  const report = JSON.parse(fromJson.out) as ReplayReport;
  t.is(report.inputs[0]!.format, 'etcdctl-json');
  const host = report.hosts[0]!;
  // port_status is up after the bind's puts: the agent plugs the vhost and puts nothing (docs/protocol.md, "How often `up` is written")
  t.is(host.revision, header, "the listing's revision, and no write of the agent's after it");
  const port = host.ports.find((p) => p.portId === PORT)!;
  t.is(port.state, 'plugged.steady');
  t.is(port.vhostId, 0);

  const textFile = join(FIXTURES, 'seed-one-plugged.etcdctl.txt');
  const fromText = JSON.parse((await runCli(['replay', textFile, '--format', 'json'])).out) as ReplayReport;
  t.deepEqual(host.commands, fromText.hosts[0]!.commands);
  t.is(host.commands[host.commands.length - 1], `vf 1: classifier_table add mac ${MAC} ring:0`);
});

/** A system whose agent records as `spp agent --record` does (src/cli/commands/agent.ts), its NICs ready. */
async function recordingAgent(t: ExecutionContext): Promise<{ s: System; log: string }> {
  const s = await startSystem(t, { agent: false });
  const log = join(mkdtempSync(join(tmpdir(), 'spp-replay-')), 'agent.jsonl');
  const recorder = new Recorder(log);
  const settings = s.settings();
  const sppctl = new SppCtlClient(httpTransport(settings.sppCtlUrl), { onExchange: recordExchanges(recorder) });
  s.agent = startAgent(settings, { logger: createLogger({ level: 'error', format: 'json' }), sppctl, recorder });
  await nicsReady(s);
  return { s, log };
}

test("a real agent's --record log replays to the same spp-ctl requests the agent sent", async (t) => {
  const { s, log } = await recordingAgent(t);
  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT);
  const vlanPort = 'a0000000-0000-0000-0000-000000000003';
  await pyBind(s.client, s.host, { portId: vlanPort, vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:00:03', vlan: 100 });
  await waitUp(s.client, s.host, vlanPort);
  await pyUnbind(s.client, s.host, PORT);
  await waitGone(s.client, s.host, PORT);
  // the cleanup's deletes reach the log through the agent's watch, which may trail etcd
  await until(() => !s.agent!.controller.store.hasPortKeys(PORT), 'the agent saw its unplug cleanup');
  await s.agent!.controller.idle();
  const sent = requests(s);
  await s.stopAgent(); // closes the recorder
  t.true(sent.length > 40, 'the layout, two plugs and an unplug');

  const replayed = await runCli(['replay', log, '--format', 'json']);
  t.is(replayed.code, 0, replayed.err);
  const report = JSON.parse(replayed.out) as ReplayReport;
  const host = report.hosts[0]!;
  t.is(report.inputs[0]!.format, 'event-log');
  t.deepEqual(host.recorded, { recorded: sent.length, replayed: sent.length, failed: [], differences: [] });
  t.deepEqual(
    host.commands.filter((c) => c.includes('classifier_table')),
    [
      `vf 1: classifier_table add mac ${MAC} ring:0`,
      'vf 2: classifier_table add vlan 100 fa:16:3e:00:00:03 ring:6',
      `vf 1: classifier_table del mac ${MAC} ring:0`,
    ],
  );
  t.deepEqual(
    host.ports.map((p) => [p.portId, p.state]),
    [
      [PORT, 'removed'],
      [vlanPort, 'plugged.steady'],
    ],
  );
  const text = await runCli(['replay', log]);
  t.regex(text.out, /recorded requests: the replay sent the same \d+ mutating requests as the agent/);

  // --until-revision: up to the first plug, the recorded requests up to there match too
  const plugAt = readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { kind: string; event?: { type: string; key?: string; value?: string; revision: number } })
    .find((e) => e.kind === 'etcd' && e.event?.type === 'put' && e.event.key === `/spp/openstack/action/spp4/${PORT}` && e.event.value === 'plug')!
    .event!.revision;
  const early = JSON.parse((await runCli(['replay', log, '--until-revision', String(plugAt), '--format', 'json'])).out) as ReplayReport;
  t.deepEqual(early.hosts[0]!.recorded!.differences, []);
  t.deepEqual(
    early.hosts[0]!.commands.filter((c) => c.includes('classifier_table')),
    [`vf 1: classifier_table add mac ${MAC} ring:0`],
  );

  // a log whose agent sent something else: the difference is printed
  const lines = readFileSync(log, 'utf8').split('\n');
  const edited = lines.map((l) => (l.includes('"action":"add","type":"mac"') ? l.replace(MAC, 'fa:16:3e:ff:ff:ff') : l)).join('\n');
  const other = join(mkdtempSync(join(tmpdir(), 'spp-replay-')), 'edited.jsonl');
  writeFileSync(other, edited);
  const diff = JSON.parse((await runCli(['replay', other, '--format', 'json'])).out) as ReplayReport;
  const add = requestText({ method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'mac', mac_address: MAC, port: 'ring:0' } });
  t.true(
    diff.hosts[0]!.recorded!.differences.some((d) => d.startsWith('vf 1 replay only') && d.endsWith(add)),
    diff.hosts[0]!.recorded!.differences.join('\n'),
  );
  t.true(diff.hosts[0]!.recorded!.differences.some((d) => d.startsWith('vf 1 recorded only') && d.includes('fa:16:3e:ff:ff:ff')));
});

test("a --record log whose spp-ctl refused requests: the agent's retries are listed as refused with their answer, not as differences", async (t) => {
  const { s, log } = await recordingAgent(t);
  // the plug's classifier entry is refused three times (HTTP 500), then accepted
  s.sim.emulator.addFault({ count: 3, action: 'error', path: 'classifier_table' });
  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT, 30_000);
  await s.agent!.controller.idle();
  await s.stopAgent();

  const report = JSON.parse((await runCli(['replay', log, '--format', 'json'])).out) as ReplayReport;
  const r = report.hosts[0]!.recorded!;
  t.is(r.failed.length, 3, r.failed.join('\n'));
  for (const f of r.failed) t.regex(f, /^vf 1 #\d+: PUT \/v1\/vfs\/1\/classifier_table .*fa:16:3e:a0:da:db.* \(answered 500: .+\)$/);
  t.deepEqual(r.differences, [], 'the replay sent what spp-ctl accepted');
  t.is(r.recorded, r.replayed + 3);
  const text = (await runCli(['replay', log])).out;
  t.regex(
    text,
    new RegExp(
      `the agent sent ${r.recorded}; spp-ctl refused or did not answer 3 of them \\(listed below; the agent retried them\\); the replay sent the same ${r.replayed} as the ${r.replayed} spp-ctl accepted`,
    ),
  );
  t.regex(text, /requests spp-ctl refused or did not answer \(3; the replay's emulator accepts each at once, so they are not compared\):/);
});

test('compareRequests: refused requests are set apart, a request carried out but unanswered shows as a difference, numbered among all of its vf', (t) => {
  const put = (mac: string) => ({
    method: 'PUT' as const,
    path: '/v1/vfs/1/classifier_table',
    body: { action: 'add', type: 'mac', mac_address: mac, port: 'ring:0' } as never,
  });
  const a = put('fa:16:3e:00:00:0a');
  const b = put('fa:16:3e:00:00:0b');
  const same = compareRequests([{ request: a, failed: 'answered 500: Internal Server Error' }, { request: a }, { request: b }], [a, b]);
  t.deepEqual(same.failed, [`vf 1 #1: ${requestText(a)} (answered 500: Internal Server Error)`]);
  t.deepEqual(same.differences, []);
  t.is(same.recorded, 3);
  // spp-ctl carried b out but its answer was lost: the agent never saw it accepted, the replay sent it
  const lost = compareRequests([{ request: a }, { request: b, failed: 'no answer: socket hang up' }], [a, b]);
  t.deepEqual(lost.differences, [`vf 1 replay only (#2): ${requestText(b)}`]);
  t.deepEqual(compareRequests([a], [b]).differences, [`vf 1 replay only (#1): ${requestText(b)}`, `vf 1 recorded only (#1): ${requestText(a)}`]);
});
