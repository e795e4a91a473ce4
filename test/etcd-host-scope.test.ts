/**
 * The host-scoped list-watch against a real etcd: an agent receives nothing
 * about another host's keys (not even a host whose name extends its own),
 * and, with etcd auth on, an agent whose role lacks one grant ends in a
 * clear `refused` state naming the range and the user, without a hot loop,
 * and recovers once the grant is added.
 */

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { Etcd3, type IPermissionRequest, Range } from 'etcd3';
import { stateName } from '../machines/state-name';
import type { RecordEntry } from '../src/daemon/recorder';
import { hostWatchRanges, keys, prefixes } from '../src/protocol/keys';
import { buildHost } from '../src/setup/build';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, type System, startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

/** `spp40` extends `spp4`: a prefix without its trailing `/` would leak its keys. */
const OTHER = 'spp40';
const port = (i: number, vlan?: number): PyPort => ({
  portId: `f0000000-0000-4000-8000-00000000000${i}`,
  vhostId: i,
  phys: i < 2 ? 'phys1' : 'phys2',
  mac: `fa:16:3e:00:0f:0${i}`,
  ...(vlan ? { vlan } : {}),
});

/** A counter of etcd's own metrics endpoint (summed over label sets matching `labels`). */
async function metric(s: System, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`http://${s.etcd.endpoints[0]}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+]+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) sum += Number(m[3]);
  }
  return sum;
}

test('an agent of host A gets no etcd event about host B while B is bound and unbound: its --record log has none, etcd sent it none', async (t) => {
  const s = await startSystem(t, { agent: false });
  await buildHost(s.client, OTHER, s.configuration);
  const record = join(mkdtempSync(join(tmpdir(), 'spp-scope-')), 'record.jsonl');
  s.spawnAgent(['--record', record]);
  const a = port(0);
  await pyBind(s.client, s.host, a);
  await waitUp(s.client, s.host, a.portId);
  await sleep(300);

  // Only the agent watches this etcd: the events etcd sends are the agent's.
  const sent0 = await metric(s, 'etcd_debugging_mvcc_events_total');
  for (const p of [port(1), port(2, 42)]) {
    await pyBind(s.client, OTHER, p);
    // B has no agent: play its part, so B's port_status keys come and go as well
    await s.client.put(keys.portStatus(OTHER, p.portId)).value('up');
  }
  for (const p of [port(1), port(2)]) await pyUnbind(s.client, OTHER, p.portId);
  await s.client.delete().prefix(prefixes.bindPortOfHost(OTHER));
  await sleep(500);
  const sentForB = (await metric(s, 'etcd_debugging_mvcc_events_total')) - sent0;

  const b = port(3);
  await pyBind(s.client, s.host, b);
  await waitUp(s.client, s.host, b.portId);
  await pyUnbind(s.client, s.host, b.portId);
  await waitGone(s.client, s.host, b.portId);
  const sentForA = (await metric(s, 'etcd_debugging_mvcc_events_total')) - sent0 - sentForB;
  await s.killChild('SIGTERM');

  t.is(sentForB, 0, 'etcd sent the agent no event while only host B changed');
  t.true(sentForA >= 4, `etcd sent the agent the events of its own host (${sentForA})`);
  const entries = readFileSync(record, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as RecordEntry);
  const etcdKeys = entries.flatMap((e) =>
    e.kind !== 'etcd' ? [] : e.event.type === 'reset' ? e.event.entries.map(([k]) => k) : e.event.type === 'connection' ? [] : [e.event.key],
  );
  t.true(etcdKeys.includes(keys.action(s.host, b.portId)), "the record holds A's own events");
  t.deepEqual(
    etcdKeys.filter((k) => k.includes(`/${OTHER}`)),
    [],
    'no key of host B in the record',
  );
});

/** The least role of host `host` as issue 14 lists it, without the grants named in `without` (and only read on those in `readOnly`). */
function hostGrants(client: Etcd3, host: string, without: readonly string[] = [], readOnly: readonly string[] = []): IPermissionRequest[] {
  const all: IPermissionRequest[] = [
    { permission: 'Read', key: keys.configuration(host) },
    ...hostWatchRanges(host).prefixes.map((p): IPermissionRequest => ({ permission: 'Readwrite', range: Range.prefix(p) })),
    { permission: 'Readwrite', key: keys.agent(host) },
    { permission: 'Readwrite', key: keys.agentLock(host) },
  ];
  void client;
  const name = (g: IPermissionRequest): string => ('key' in g ? String(g.key) : g.range.start.toString());
  return all.filter((g) => !without.includes(name(g))).map((g) => (readOnly.includes(name(g)) ? { ...g, permission: 'Read' as const } : g));
}

/** Turns etcd auth on with a root user and a host role lacking `without`; returns the root client. */
async function enableAuth(
  t: ExecutionContext,
  s: System,
  user: string,
  password: string,
  without: readonly string[],
  readOnly: readonly string[] = [],
): Promise<Etcd3> {
  const c = s.client;
  await c.user('root').create('root-pw');
  await c.user('root').addRole(await c.role('root').create());
  const role = await c.role(`${user}-role`).create();
  await role.grant(hostGrants(c, s.host, without, readOnly));
  await c.user(user).create(password);
  await c.user(user).addRole(role);
  await c.auth.authEnable({});
  const root = new Etcd3({ hosts: s.etcd.endpoints.map((e) => `http://${e}`), auth: { username: 'root', password: 'root-pw' } });
  t.teardown(() => root.close());
  return root;
}

test('with etcd auth on, a host role lacking one grant: state refused, the range and the user in the log, bounded requests over 10 s; the grant added, it plugs', async (t) => {
  const s = await startSystem(t, { agent: false });
  const missing = prefixes.actionOfHost(s.host);
  const root = await enableAuth(t, s, 'agent-spp4', 'agent-pw', [missing]);
  const handle = s.startAgent({ etcdUser: 'agent-spp4', etcdPassword: 'agent-pw' });
  await until(() => stateName(handle.agent.getSnapshot().value) === 'refused', 'agent state refused');
  const started0 = await metric(s, 'grpc_server_started_total', 'grpc_type="unary"');
  await sleep(10_000);
  const unary = (await metric(s, 'grpc_server_started_total', 'grpc_type="unary"')) - started0;

  t.is(stateName(handle.agent.getSnapshot().value), 'refused', 'still refused, never running while blind');
  const refusal = s.logs.find((l) => l.level === 'error' && String(l.reason).includes(missing));
  t.truthy(refusal, `an error naming ${missing}`);
  t.regex(String(refusal?.reason), /agent-spp4/, 'the error names the etcd user');
  t.regex(String(handle.agent.getSnapshot().context.reason), new RegExp(missing));
  t.false(JSON.stringify(s.logs).includes('agent-pw'), 'the password is in no log record');
  const refusals = s.logs.filter((l) => l.message === 'etcd connection lost' && String(l.reason).includes(missing)).length;
  // backoff 1, 2, 4, 8 s: about 4 attempts in 10 s, each a Txn and a probe per range (6 requests) plus keep-alives
  t.true(refusals <= 6, `${refusals} refused attempts in ~10 s`);
  t.true(unary <= 60, `${unary} unary etcd requests in 10 s`);
  t.log(`${refusals} refused attempts, ${unary} unary etcd requests in 10 s`);

  await await root.role('agent-spp4-role').grant({ permission: 'Readwrite', range: Range.prefix(missing) });
  await until(() => stateName(handle.agent.getSnapshot().value) === 'running', 'agent running after the grant', 30_000);
  await nicsReady(s);
  const p = port(1, 77);
  await pyBind(root, s.host, p);
  await waitUp(root, s.host, p.portId);
  await pyUnbind(root, s.host, p.portId);
  await waitGone(root, s.host, p.portId);
});

test('with etcd auth on and a wrong password: state refused, the user in the log, not the password', async (t) => {
  const s = await startSystem(t, { agent: false });
  await enableAuth(t, s, 'agent-spp4', 'agent-pw', []);
  const handle = s.startAgent({ etcdUser: 'agent-spp4', etcdPassword: 'not-the-password' });
  // the lock is taken before anything is listed: its refusal is what the agent meets first
  await until(() => stateName(handle.agent.getSnapshot().value) === 'refused', 'agent state refused', 15_000);
  const refusal = s.logs.find((l) => l.level === 'error' && /authentication failed/.test(String(l.reason)));
  t.truthy(refusal, 'an error saying authentication failed');
  t.regex(String(refusal?.reason), /etcd user "agent-spp4"/);
  t.regex(String(handle.agent.getSnapshot().context.reason), /authentication failed/);
  t.false(JSON.stringify(s.logs).includes('not-the-password'), 'the password is in no log record');
});

test('with etcd auth on, a role that may read its keys but not write the liveness key or port_status: state refused naming them, running once granted', async (t) => {
  const s = await startSystem(t, { agent: false });
  const status = prefixes.portStatusOfHost(s.host);
  const root = await enableAuth(t, s, 'agent-spp4', 'agent-pw', [keys.agent(s.host)], [status]);
  const handle = s.startAgent({ etcdUser: 'agent-spp4', etcdPassword: 'agent-pw' });
  // listed and watching, but the liveness key is refused: the driver would think the host dead
  await until(() => stateName(handle.agent.getSnapshot().value) === 'refused', 'agent state refused');
  t.regex(String(handle.agent.getSnapshot().context.reason), new RegExp(`liveness key ${keys.agent(s.host)}`));
  await root.role('agent-spp4-role').grant({ permission: 'Readwrite', key: keys.agent(s.host) });
  await until(() => stateName(handle.agent.getSnapshot().value) === 'running', 'running once the liveness key is granted', 30_000);

  // a plug whose `up` etcd refuses: refused again, naming the key and the user; nothing written, the port retries
  await nicsReady(s);
  const p = port(1);
  await pyBind(root, s.host, p);
  await until(() => stateName(handle.agent.getSnapshot().value) === 'refused', 'agent state refused on the port_status write', 15_000);
  const reason = String(handle.agent.getSnapshot().context.reason);
  t.regex(reason, new RegExp(`write of ${keys.portStatus(s.host, p.portId)}`));
  t.regex(reason, /agent-spp4/);
  t.is(await root.get(keys.portStatus(s.host, p.portId)).string(), null);
  await root.role('agent-spp4-role').grant({ permission: 'Readwrite', range: Range.prefix(status) });
  await waitUp(root, s.host, p.portId, 60_000);
  await until(() => stateName(handle.agent.getSnapshot().value) === 'running', 'running once port_status is granted', 15_000);
  t.false(JSON.stringify(s.logs).includes('agent-pw'), 'the password is in no log record');
});
