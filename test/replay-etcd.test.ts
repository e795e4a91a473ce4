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
import test from 'ava';
import { startAgent } from '../src/agent/daemon';
import { Recorder, recordExchanges } from '../src/agent/recorder';
import { createLogger } from '../src/log';
import type { ReplayReport } from '../src/replay';
import { requestText } from '../src/replay';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { runCli } from './helpers/cli';
import { parseEtcdctlText, withEtcd } from './helpers/etcd';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, requests, startSystem, until } from './helpers/system';

const FIXTURES = join(__dirname, '..', '..', '..', 'shared', 'fixtures');
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

test("a real agent's --record log replays to the same spp-ctl requests the agent sent", async (t) => {
  const s = await startSystem(t, { agent: false });
  const log = join(mkdtempSync(join(tmpdir(), 'spp-replay-')), 'agent.jsonl');
  const recorder = new Recorder(log);
  // the same recording as `spp agent --record` (src/cli/commands/agent.ts)
  const settings = s.settings();
  const sppctl = new SppCtlClient(httpTransport(settings.sppCtlUrl), { onExchange: recordExchanges(recorder) });
  s.agent = startAgent(settings, { logger: createLogger({ level: 'error', format: 'json' }), sppctl, recorder });
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT);
  const vlanPort = 'a0000000-0000-0000-0000-000000000003';
  await pyBind(s.client, s.host, { portId: vlanPort, vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:00:03', vlan: 100 });
  await waitUp(s.client, s.host, vlanPort);
  await pyUnbind(s.client, s.host, PORT);
  await waitGone(s.client, s.host, PORT);
  // the cleanup's deletes reach the log through the agent's watch, which may trail etcd
  await until(() => !s.agent!.controller.store.hasPortKeys(PORT), 'the agent saw its unplug cleanup');
  await s.agent.controller.idle();
  const sent = requests(s);
  await s.stopAgent(); // closes the recorder
  t.true(sent.length > 40, 'the layout, two plugs and an unplug');

  const replayed = await runCli(['replay', log, '--format', 'json']);
  t.is(replayed.code, 0, replayed.err);
  const report = JSON.parse(replayed.out) as ReplayReport;
  const host = report.hosts[0]!;
  t.is(report.inputs[0]!.format, 'event-log');
  t.deepEqual(host.recorded, { recorded: sent.length, replayed: sent.length, differences: [] });
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
