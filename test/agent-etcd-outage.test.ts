/**
 * Issue 26 §1: with etcd auth on and the agent logged in as its host's user,
 * two etcd outages of 20 s (stopped, started again on the same data dir and
 * port), each far longer than the lease TTL (2 s): every time the agent is
 * ready again (/readyz 200) within 40 s of etcd's return, by itself (the same
 * process: not a watchdog restart), and a new bind through the driver comes
 * up. Coming back takes a lock campaign, new liveness lease and a relist or
 * resumed watch each time; the second outage starts while a bind is being
 * processed.
 */
import test from 'ava';
import { freePort } from '../src/localetcd/ports';
import { keys } from '../src/protocol/keys';
import { cliBind, withHostUsers } from './helpers/auth-system';
import { type PyPort, pyBind, waitUp } from './helpers/neutron';
import { classified, entryOf, startSystem, until } from './helpers/system';

const OUTAGE_MS = 20_000;
const READY_WITHIN_MS = 40_000;

/** One port per vhost of the seed host: flat on even vhosts, VLAN on odd ones. */
const P: PyPort[] = [0, 1, 2, 3].map((i) => ({
  portId: `b0000000-0000-0000-0000-00000000000${i}`,
  vhostId: i,
  phys: i < 2 ? 'phys1' : 'phys2',
  mac: `fa:16:3e:00:0b:0${i}`,
  ...(i % 2 === 1 ? { vlan: 300 + i } : {}),
}));

test('with auth on, the agent recovers by itself from two 20 s etcd outages: ready within 40 s of each return, and binds come up', async (t) => {
  t.timeout(240_000);
  const s = await startSystem(t, { agent: false });
  const users = await withHostUsers(t, s);
  const port = await freePort();
  const ops = `http://127.0.0.1:${port}`;
  const child = s.spawnAgent(['--ops', `127.0.0.1:${port}`], users.agentEnv);
  const readyz = async (): Promise<{ status: number; body: string } | undefined> => {
    const res = await fetch(`${ops}/readyz`).catch(() => undefined);
    return res ? { status: res.status, body: await res.text() } : undefined;
  };
  const ready = (within: number, what: string): Promise<true> =>
    until(async () => (await readyz())?.status === 200, what, within).catch((err: Error) => {
      t.log(s.childOutput.slice(-4000));
      throw err;
    });
  const bind = async (p: PyPort): Promise<void> => {
    const r = await cliBind(users.driverEnv, s.host, p, 20);
    t.is(r.code, 0, `${r.err}\nagent output:\n${s.childOutput.slice(-3000)}`);
  };
  await ready(20_000, 'the agent ready at start');
  await bind(P[0]!);

  const outage = async (n: number): Promise<void> => {
    const mark = s.childOutput.length;
    await s.etcd.stopMember('m0');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const during = await readyz();
    t.is(during?.status, 503, `outage ${n}: not ready while etcd is down`);
    await s.etcd.startMember('m0');
    const back = Date.now();
    await ready(READY_WITHIN_MS, `outage ${n}: the agent ready again within ${READY_WITHIN_MS / 1000} s of etcd's return`);
    t.log(`outage ${n}: ready ${((Date.now() - back) / 1000).toFixed(1)} s after etcd's return (while down: ${during?.body.trim()})`);
    // issue 26 §2: the cause once (and a reminder), not a warning per retry; /readyz named it
    const lines = s.childLogs(mark);
    const trouble = lines.filter((l) => l.message === 'etcd trouble');
    // once per cause: the connection dropped, then refused (gRPC's vaguer "unreachable" in between is not news)
    t.true(trouble.length >= 1 && trouble.length <= 3, `outage ${n}: 'etcd trouble' ${trouble.map((l) => l.cause).join(' | ')}`);
    t.log(`outage ${n}: causes logged: ${trouble.map((l) => l.kind).join(', ')}`);
    t.regex(String(during?.body), /connection refused/);
    t.true(
      lines.some((l) => l.message === 'etcd answers again'),
      `outage ${n}: the end of the trouble logged`,
    );
    const loud = lines.filter((l) => l.level === 'warn' || l.level === 'error');
    t.true(loud.length <= 25, `outage ${n}: ${loud.length} warn/error lines: ${loud.map((l) => l.message).join(' | ')}`);
    t.log(`outage ${n}: ${loud.length} warn/error lines over ${Math.round((Date.now() - back + OUTAGE_MS) / 1000)} s`);
  };

  await outage(1);
  t.truthy(await s.client.get(keys.agent(s.host)).string(), 'the liveness key is back');
  await bind(P[1]!);

  // the second outage starts while the agent is working on a bind (the driver's writes, as the Python driver makes them)
  await pyBind(users.driver, s.host, P[2]!);
  await outage(2);
  await waitUp(s.client, s.host, P[2]!.portId, 20_000);
  await bind(P[3]!);

  t.is(child.exitCode, null, 'the same agent process recovered (no watchdog exit, no restart)');
  t.deepEqual(await classified(s), P.map(entryOf).sort());
});
