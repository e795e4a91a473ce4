/**
 * Two agents started for one host: exactly one is active (the etcd lease
 * lock /spp/openstack/agent-lock/<host>), the other stands by without
 * listing, watching or talking to spp-ctl, and takes over once the first
 * one dies (SIGKILL: its lease expires within the TTL).
 */

import type { ChildProcess } from 'node:child_process';
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { type System, startSystem, until } from './helpers/system';

const TTL = 2;
const P0 = { portId: 'a0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0a:00' };
const P1 = { portId: 'a0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0a:02', vlan: 12 };

interface Agent {
  readonly child: ChildProcess;
  output: string;
}

function spawn(s: System, t: { teardown(fn: () => void): void }): Agent {
  const child = s.spawnAgent(['--lease-ttl', String(TTL)]);
  // the System tracks one child; this test tracks its own
  s.child = undefined;
  const agent: Agent = { child, output: '' };
  child.stdout?.on('data', (d: Buffer) => {
    agent.output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    agent.output += d.toString();
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return agent;
}

const messages = (a: Agent): string[] =>
  a.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => String((JSON.parse(l) as { message?: unknown }).message));

const pidIn = async (s: System, key: string): Promise<number | undefined> => {
  const v = await s.client.get(key).string();
  return v === null ? undefined : (JSON.parse(v) as { pid: number }).pid;
};

test('two agents for one host: one active, one standing by; the standby takes over within the TTL after a SIGKILL', async (t) => {
  const s = await startSystem(t, { agent: false });
  const a = spawn(s, t);
  await until(async () => (await pidIn(s, keys.agent(s.host))) === a.child.pid, 'the first agent is live');
  const b = spawn(s, t);
  await until(() => messages(b).includes(`another agent holds the lock for host ${s.host}; standing by`), 'the second agent stands by');

  await pyBind(s.client, s.host, P0);
  await waitUp(s.client, s.host, P0.portId);
  t.is(await pidIn(s, keys.agentLock(s.host)), a.child.pid, 'the first agent holds the lock');
  t.is(await pidIn(s, keys.agent(s.host)), a.child.pid, 'only the active agent writes the liveness key');
  const idle = messages(b);
  for (const m of ['listed host keys', 'spp-ctl command', 'liveness key written', 'port is up']) t.false(idle.includes(m), `the standby logged "${m}"`);

  const killed = Date.now();
  a.child.kill('SIGKILL');
  await until(() => messages(b).includes('agent lock taken'), 'the standby takes the lock', TTL * 1000 + 5000);
  t.log(`the standby took over ${Date.now() - killed} ms after the SIGKILL (TTL ${TTL} s)`);
  await until(async () => (await pidIn(s, keys.agent(s.host))) === b.child.pid, 'the new agent writes the liveness key');
  await pyBind(s.client, s.host, P1);
  await waitUp(s.client, s.host, P1.portId);
  await pyUnbind(s.client, s.host, P0.portId);
  await waitGone(s.client, s.host, P0.portId);
  t.deepEqual(
    (await s.vfStatuses()).map((vf) => vf.classifier_table.map((e) => e.value)),
    [[], ['12/FA:16:3E:00:0A:02']],
  );

  // the first agent comes back: now it is the one standing by
  const c = spawn(s, t);
  await until(() => messages(c).includes(`another agent holds the lock for host ${s.host}; standing by`), 'the restarted agent stands by');
  t.is(await pidIn(s, keys.agentLock(s.host)), b.child.pid);
});

test('a graceful stop (SIGTERM) hands over at once: the lock is released, not left to expire', async (t) => {
  const s = await startSystem(t, { agent: false });
  const a = spawn(s, t);
  await until(async () => (await pidIn(s, keys.agentLock(s.host))) === a.child.pid, 'the first agent holds the lock');
  const b = spawn(s, t);
  await until(() => messages(b).includes(`another agent holds the lock for host ${s.host}; standing by`), 'the second agent stands by');
  const exited = new Promise<number | null>((resolve) => a.child.once('exit', (code) => resolve(code)));
  a.child.kill('SIGTERM');
  t.is(await exited, 0);
  t.not(await pidIn(s, keys.agentLock(s.host)), a.child.pid, 'the lock is not held by the stopped agent');
  await until(async () => (await pidIn(s, keys.agentLock(s.host))) === b.child.pid, 'the standby holds the lock');
  await pyBind(s.client, s.host, P0);
  await waitUp(s.client, s.host, P0.portId);
});

test("an agent restarted after a SIGKILL on the same node takes its dead predecessor's lock at once, not after the TTL", async (t) => {
  const s = await startSystem(t, { agent: false });
  const first = s.spawnAgent(['--lease-ttl', '30']);
  await until(async () => (await pidIn(s, keys.agentLock(s.host))) === first.pid, 'the first agent holds the lock');
  await pyBind(s.client, s.host, P0);
  await waitUp(s.client, s.host, P0.portId);
  await s.killChild('SIGKILL');
  const started = Date.now();
  const second = s.spawnAgent(['--lease-ttl', '30']);
  await until(async () => (await pidIn(s, keys.agentLock(s.host))) === second.pid, 'the restarted agent holds the lock', 10_000);
  t.true(Date.now() - started < 10_000, 'well within the 30 s TTL');
  t.regex(s.childOutput, /the previous agent on this node is gone; taking its lock without waiting for its lease/);
  await pyUnbind(s.client, s.host, P0.portId);
  await waitGone(s.client, s.host, P0.portId);
});
