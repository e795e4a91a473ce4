/**
 * How often `port_status = up` is put (issue 32 item 2; docs/protocol.md,
 * "How often `up` is written"): the decisions alone, then counted from
 * etcd's own history (a watch from a revision) with a real etcd.
 */
import test, { type ExecutionContext } from 'ava';
import type { Etcd3 } from 'etcd3';
import { bindRevision, historyShowsReassert, reassertDecision, type UpRecord, upForBind } from '../src/agent/up-writes';
import { keys, prefixes } from '../src/protocol/keys';
import { type PyPort, pyBind, waitUp } from './helpers/neutron';
import { nicsReady, type System, startSystem, until } from './helpers/system';

const v = (value: string, modRevision: number) => ({ value, modRevision });

test('up counts for a bind only when put after its bind_port and action', (t) => {
  const bind = bindRevision(v('{}', 10), v('plug', 11));
  t.is(bind, 11);
  t.true(upForBind(v('up', 12), bind));
  t.false(upForBind(v('up', 9), bind), 'left from an earlier bind');
  t.false(upForBind(v('error: x', 12), bind));
  t.false(upForBind(undefined, bind));
  t.is(bindRevision(undefined, undefined), 0);
});

test('re-asserts: the schedule after a put of ours, at most one after a found up, none for an older bind', (t) => {
  const put: UpRecord = { bind: 11, first: 'put', reasserts: 0 };
  t.deepEqual(reassertDecision(put, 11, 1), { kind: 'write' });
  t.is(reassertDecision({ ...put, reasserts: 1 }, 11, 1).kind, 'skip');
  t.deepEqual(reassertDecision({ ...put, reasserts: 1 }, 11, 3), { kind: 'write' }, 'a longer schedule is followed');
  t.is(reassertDecision(put, 14, 1).kind, 'skip', 'a newer bind has its own plug');
  t.is(reassertDecision(undefined, 11, 1).kind, 'skip');
  const found: UpRecord = { bind: 11, first: 'found', foundAt: 12, reasserts: 0 };
  t.deepEqual(reassertDecision(found, 11, 4), { kind: 'check-history', foundAt: 12, bind: 11 });
  t.is(reassertDecision({ ...found, reasserts: 1 }, 11, 4).kind, 'skip', 'a restart re-asserts at most once');
  t.is(reassertDecision(found, 11, 0).kind, 'skip', 'off means off');
});

test('the history shows a re-assert only when the put before the found up was an up of the same bind', (t) => {
  t.true(historyShowsReassert(v('up', 12), 11));
  t.false(historyShowsReassert(undefined, 11), 'the found up created the key: it was the first');
  t.false(historyShowsReassert(v('error: x', 12), 11), 'an error put first');
  t.false(historyShowsReassert(v('up', 5), 11), 'an up of an earlier bind');
});

// each test below has a host of its own: should two parallel tests end up on one etcd (a rare port race when
// test etcds start at once), their keys still do not meet
const PORTS: PyPort[] = [0, 1, 2, 3].map((i) => ({
  portId: `d3000000-0000-0000-0000-00000000000${i}`,
  vhostId: i,
  phys: i < 2 ? 'phys1' : 'phys2',
  mac: `fa:16:3e:00:32:0${i}`,
  ...(i % 2 === 1 ? { vlan: 320 + i } : {}),
}));

/** Every `up` put on the host's port_status keys from `fromRevision` on, per port id, read from etcd's history. */
async function upPuts(t: ExecutionContext, client: Etcd3, host: string, fromRevision: number): Promise<() => Map<string, number>> {
  const counts = new Map<string, number>();
  const prefix = prefixes.portStatusOfHost(host);
  const watcher = await client.watch().prefix(prefix).startRevision(String(fromRevision)).create();
  t.teardown(() => watcher.cancel());
  watcher.on('put', (kv) => {
    if (kv.value.toString() !== 'up') return;
    const port = kv.key.toString().slice(prefix.length);
    counts.set(port, (counts.get(port) ?? 0) + 1);
  });
  return () => counts;
}

const revision = async (client: Etcd3): Promise<number> => Number((await client.get('/spp/openstack/none').exec()).header.revision);
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Binds the ports as the original driver does and waits for each `up`. */
async function bindAll(s: System): Promise<void> {
  for (const p of PORTS) await pyBind(s.client, s.host, p);
  for (const p of PORTS) await waitUp(s.client, s.host, p.portId);
}

/** Restarts the in-process agent and waits until every port was plugged again, then a re-assert delay and a margin. */
async function restart(s: System, settings: Record<string, string> = {}): Promise<void> {
  await s.stopAgent();
  const from = s.logs.length;
  s.startAgent(settings);
  await nicsReady(s);
  await until(
    () => PORTS.every((p) => s.logs.slice(from).some((r) => r.port === p.portId && r.message === 'port is up')),
    'every port plugged again after the restart',
  );
  await sleep(1000);
}

test('a fresh plug puts up twice (the put and one re-assert), and the original driver late watch sees one', async (t) => {
  const s = await startSystem(t, { host: 'upw-fresh' });
  await nicsReady(s);
  const from = (await revision(s.client)) + 1;
  const counted = await upPuts(t, s.client, s.host, from);
  const p = PORTS[0]!;
  await pyBind(s.client, s.host, p);
  // the original driver: its watch starts after the action put, too late for the first up on a fast agent
  const late = await s.client.watch().key(keys.portStatus(s.host, p.portId)).create();
  const seen = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    late.on('put', (kv) => {
      if (kv.value.toString() === 'up') {
        clearTimeout(timer);
        resolve(true);
      }
    });
  });
  t.true(await seen, 'the late watcher saw an up');
  await late.cancel();
  await sleep(1000);
  t.is(counted().get(p.portId), 2);
});

test('a restart with 4 ports up whose re-asserts were made before: no up put at all', async (t) => {
  const s = await startSystem(t, { host: 'upw-made' });
  await nicsReady(s);
  await bindAll(s);
  await sleep(1000); // the re-asserts at 0.25 s are made
  const from = (await revision(s.client)) + 1;
  const counted = await upPuts(t, s.client, s.host, from);
  await restart(s);
  t.is(total(counted()), 0, JSON.stringify([...counted()]));
  t.true(s.logs.some((r) => r.message === 'port_status up was re-asserted for this bind before the restart; not put again'));
  for (const p of PORTS) t.is(await s.client.get(keys.portStatus(s.host, p.portId)).string(), 'up');
});

test('a restart with 4 ports up whose re-asserts were not made yet: each up put once, at most 4', async (t) => {
  // the first agent re-asserts only after 30 s: it is stopped before that
  const s = await startSystem(t, { agent: false, host: 'upw-not-made' });
  s.startAgent({ reassert: '30' });
  await nicsReady(s);
  await bindAll(s);
  const from = (await revision(s.client)) + 1;
  const counted = await upPuts(t, s.client, s.host, from);
  await restart(s);
  t.deepEqual(
    PORTS.map((p) => counted().get(p.portId) ?? 0),
    [1, 1, 1, 1],
  );
});

test('a port plugged again after an spp_vf restart puts no up: the bind has its put and re-assert already', async (t) => {
  const s = await startSystem(t, { host: 'upw-vf-restart', settings: { resyncInterval: '0.3' } });
  await nicsReady(s);
  const p = PORTS[0]!;
  await pyBind(s.client, s.host, p);
  await waitUp(s.client, s.host, p.portId);
  await sleep(1000);
  const before = await s.vfStatus(1);
  const counted = await upPuts(t, s.client, s.host, (await revision(s.client)) + 1);
  const from = s.logs.length;
  s.sim.emulator.restartVf(1);
  await until(async () => JSON.stringify(await s.vfStatus(1)) === JSON.stringify(before), 'vf 1 rebuilt with the port entry');
  await sleep(1000);
  t.true(
    s.logs.slice(from).some((r) => r.port === p.portId && r.message === 'port is up'),
    'the port was plugged again',
  );
  t.is(total(counted()), 0, JSON.stringify([...counted()]));
});
