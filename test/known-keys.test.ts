/**
 * Every key the project writes is known to every reader: a healthy cluster
 * with a running agent (which holds agent-lock/<host> and writes
 * agent/<host>) replays with no violation and shows no stray key.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { keys } from '../src/protocol/keys';
import type { ReplayReport } from '../src/replay';
import { checkInvariants } from '../src/replay/invariants';
import { groupHostViews } from '../src/setup/view';
import { runCli } from './helpers/cli';
import { pyBind, waitUp } from './helpers/neutron';
import { nicsReady, startSystem } from './helpers/system';

const run = promisify(execFile);
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';

test('a healthy cluster with a running agent: replay finds no violation, status no stray key', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, { portId: PORT, mac: 'fa:16:3e:a0:da:db', vhostId: 0, phys: 'phys1' });
  await waitUp(s.client, s.host, PORT);
  const all = await s.client.getAll().prefix('/spp/').strings();
  t.truthy(all[keys.agentLock(s.host)], 'the agent holds its host lock');
  t.truthy(all[keys.agent(s.host)], 'the agent wrote its liveness key');

  const endpoints = s.etcd.endpoints.join(',');
  const { stdout } = await run('etcdctl', ['--endpoints', endpoints, 'get', '--prefix', '/spp', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } });
  const file = join(mkdtempSync(join(tmpdir(), 'spp-known-keys-')), 'snapshot.json');
  writeFileSync(file, stdout);

  const fromFile = await runCli(['replay', file, '--format', 'json']);
  const fileReport = JSON.parse(fromFile.out) as ReplayReport;
  t.deepEqual([...fileReport.invariants, ...fileReport.hosts.flatMap((h) => h.invariants)], [], 'no violation in the snapshot');
  t.is(fromFile.code, 0, fromFile.err);

  const live = await runCli(['replay', '--etcd-endpoints', endpoints, '--format', 'json']);
  const liveReport = JSON.parse(live.out) as ReplayReport;
  t.deepEqual([...liveReport.invariants, ...liveReport.hosts.flatMap((h) => h.invariants)], [], 'no violation in the history');
  t.is(live.code, 0, live.err);

  const status = await runCli(['status', '--etcd-endpoints', endpoints]);
  t.is(status.code, 0, status.err);
  t.notRegex(status.out, /not a networking-spp protocol key|belong to no host/);
  t.regex(status.out, new RegExp(`host ${s.host}: agent alive \\(pid ${process.pid}, `));
  const json = JSON.parse((await runCli(['status', '--etcd-endpoints', endpoints, '--format', 'json'])).out) as {
    strayKeys: unknown[];
    hosts: Array<{ strayKeys: unknown[]; lock?: { ok: boolean; value?: { pid: number } } }>;
  };
  t.deepEqual(json.strayKeys, []);
  t.deepEqual(json.hosts[0]!.strayKeys, []);
  t.is(json.hosts[0]!.lock?.value?.pid, process.pid, "status shows the lock's holder");
});

test("the agent's own keys: a bad value is named, a key beneath them is stray", (t) => {
  const values = {
    [keys.agentLock('h')]: 'not json',
    [`${keys.agentLock('h')}/extra`]: 'x',
  };
  const violations = checkInvariants(values);
  t.deepEqual(violations.map((v) => `${v.code} ${v.keys.join(' ')}`).sort(), [
    `invalid-value ${keys.agentLock('h')}`,
    `stray-key ${keys.agentLock('h')}/extra`,
  ]);
  t.is(groupHostViews(values).hosts[0]!.host, 'h', 'both are grouped under their host');
});
