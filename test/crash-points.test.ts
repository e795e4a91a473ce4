/**
 * The agent killed (SIGKILL) right after its k-th mutating spp-ctl request
 * or its k-th acknowledged etcd write, for every k of a path, then started
 * again: the end state (vf statuses, /spp keys) equals the end state of a
 * run without the crash, no classifier entry is duplicated and no request
 * spp-ctl rejected is repeated.
 *
 * One etcd + emulator per path, reset between points. `npm test` runs a
 * representative subset of k (first, second, middle, last two); SPP_SOAK=1
 * runs every k.
 */

import type { ChildProcess } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import { keys } from '../src/protocol/keys';
import { buildHost } from '../src/setup/build';
import type { VfStatus } from '../src/sppctl/wire';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { type System, startSystem, until } from './helpers/system';

const SOAK = process.env.SPP_SOAK === '1';
/** Re-put of `up` off, so the number of etcd writes of a path is fixed. */
const ARGS = ['--reassert-up', 'off', '--resync-interval', '30'];

const FLAT: PyPort = { portId: 'd0000000-0000-0000-0000-00000000f1a7', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0c:01' };
const VLAN: PyPort = { portId: 'd0000000-0000-0000-0000-0000000000b1', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0c:02', vlan: 123 };
/** Ports bound on VLAN's vhost after it was unplugged: its tags (VLAN 123) are still there. */
const VLAN_OTHER: PyPort = { portId: 'd0000000-0000-0000-0000-0000000000b2', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0c:03', vlan: 321 };
const FLAT_ON_TAGS: PyPort = { portId: 'd0000000-0000-0000-0000-00000000f1a8', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0c:04' };
/** A port that stays plugged through every path, so crashes happen next to live state. */
const BYSTANDER: PyPort = { portId: 'd0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0c:00', vlan: 7 };

interface CrashPath {
  readonly name: string;
  /** Ports bound (and up) before the trigger. */
  readonly before: readonly PyPort[];
  /** Ports unbound (and gone) after `before`, before the trigger. */
  readonly unbound?: readonly PyPort[];
  /** Acknowledged etcd writes of the agent before the trigger (one `up` per port, re-put off; one per unplug). */
  readonly writesBefore: number;
  /** What the driver does; undefined: the agent's start itself is the trigger. */
  readonly trigger?: (s: System) => Promise<void>;
  /** The trigger's work is done (in a run without crash). */
  readonly done: (s: System) => Promise<unknown>;
}

const PATHS: CrashPath[] = [
  { name: 'start-up layout building (empty vfs)', before: [], writesBefore: 0, done: (s) => layoutBuilt(s) },
  {
    name: 'flat plug',
    before: [BYSTANDER],
    writesBefore: 1,
    trigger: (s) => pyBind(s.client, s.host, FLAT),
    done: (s) => waitUp(s.client, s.host, FLAT.portId),
  },
  {
    name: 'VLAN plug',
    before: [BYSTANDER],
    writesBefore: 1,
    trigger: (s) => pyBind(s.client, s.host, VLAN),
    done: (s) => waitUp(s.client, s.host, VLAN.portId),
  },
  {
    name: 'flat unplug',
    before: [BYSTANDER, FLAT],
    writesBefore: 2,
    trigger: (s) => pyUnbind(s.client, s.host, FLAT.portId),
    done: (s) => waitGone(s.client, s.host, FLAT.portId),
  },
  {
    name: 'VLAN unplug',
    before: [BYSTANDER, VLAN],
    writesBefore: 2,
    trigger: (s) => pyUnbind(s.client, s.host, VLAN.portId),
    done: (s) => waitGone(s.client, s.host, VLAN.portId),
  },
  {
    name: 'VLAN re-plug with another VLAN (the vhost kept the tags of its last VLAN)',
    before: [BYSTANDER, VLAN],
    unbound: [VLAN],
    writesBefore: 3,
    trigger: (s) => pyBind(s.client, s.host, VLAN_OTHER),
    done: (s) => waitUp(s.client, s.host, VLAN_OTHER.portId),
  },
  {
    name: 'flat plug after a VLAN unplug (the tags are removed first)',
    before: [BYSTANDER, VLAN],
    unbound: [VLAN],
    writesBefore: 3,
    trigger: (s) => pyBind(s.client, s.host, FLAT_ON_TAGS),
    done: (s) => waitUp(s.client, s.host, FLAT_ON_TAGS.portId),
  },
];

interface EndState {
  readonly vfs: VfStatus[];
  readonly keys: Record<string, string>;
}

/** Counts mutating spp-ctl requests once armed; SIGKILLs the agent at the k-th, before its answer is sent. */
class KillSwitch {
  armed = false;
  count = 0;
  killAt: number | undefined;
  child: ChildProcess | undefined;

  onRequest = (method: string): void => {
    if (!this.armed || method === 'GET') return;
    this.count += 1;
    if (this.count === this.killAt) this.child?.kill('SIGKILL');
  };

  reset(killAt: number | undefined): void {
    this.armed = false;
    this.count = 0;
    this.killAt = killAt;
  }
}

async function endState(s: System): Promise<EndState> {
  return { vfs: await s.vfStatuses(), keys: await s.keys() };
}

/** Every NIC's build finished (the child logs `nic state` ready per vf) since `from` in its output. */
function layoutBuilt(s: System, from = 0): Promise<true> {
  return until(
    () => {
      const ready = s.childOutput
        .slice(from)
        .split('\n')
        .filter((l) => l.includes('"nic state"') && l.includes('"state":"ready"'));
      return new Set(ready.map((l) => (JSON.parse(l) as { secId: number }).secId)).size === s.configuration.length;
    },
    'every NIC ready',
    15_000,
  );
}

/** Back to the path's starting point: empty vfs, the host's keys as set up, no agent. */
async function reset(s: System): Promise<void> {
  await s.killChild('SIGKILL');
  await s.client.delete().prefix('/spp/');
  await buildHost(s.client, s.host, s.configuration);
  for (const secId of s.sim.emulator.secIds()) s.sim.emulator.restartVf(secId);
}

/**
 * Runs the path once; with `kill`, the agent dies at that point, its lock is
 * released (as its lease would expire) and a fresh agent finishes the work.
 */
async function runPath(s: System, sw: KillSwitch, path: CrashPath, kill?: { kind: 'sppctl' | 'etcd'; k: number }): Promise<void> {
  await reset(s);
  s.sim.emulator.clearLog();
  sw.reset(kill?.kind === 'sppctl' ? kill.k : undefined);
  const env = kill?.kind === 'etcd' ? { SPP_TEST_EXIT_AFTER_ETCD_WRITES: String(path.writesBefore + kill.k) } : {};
  const from = s.childOutput.length;
  if (!path.trigger) sw.armed = true;
  const child = s.spawnAgent(ARGS, env);
  sw.child = child;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (path.trigger) {
    await layoutBuilt(s, from);
    for (const p of path.before) {
      await pyBind(s.client, s.host, p);
      await waitUp(s.client, s.host, p.portId);
    }
    for (const p of path.unbound ?? []) {
      await pyUnbind(s.client, s.host, p.portId);
      await waitGone(s.client, s.host, p.portId);
    }
    sw.armed = true;
    await path.trigger(s);
  }
  if (!kill) {
    await path.done(s);
    return;
  }
  await Promise.race([
    exited,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${path.name}: the agent was not killed at ${kill.kind} ${kill.k}`)), 15_000)),
  ]);
  s.child = undefined;
  // The dead agent's lease would expire within the TTL; the lock is not what is under test here.
  await s.client.delete().key(keys.agentLock(s.host));
  await s.client.delete().key(keys.agent(s.host));
  s.spawnAgent(ARGS);
}

/** The k to run: all of them under SPP_SOAK, else first, second, middle and the last two. */
function pointsOf(n: number): number[] {
  const all = Array.from({ length: n }, (_, i) => i + 1);
  if (SOAK || n <= 5) return all;
  return [...new Set([1, 2, Math.ceil(n / 2), n - 1, n])];
}

function duplicateClassifierEntries(vfs: readonly VfStatus[]): string[] {
  const out: string[] = [];
  vfs.forEach((vf, i) => {
    const seen = new Set<string>();
    for (const entry of vf.classifier_table) {
      const id = JSON.stringify(entry);
      if (seen.has(id)) out.push(`vf ${i + 1}: ${id}`);
      seen.add(id);
    }
  });
  return out;
}

function repeatedRejections(s: System): string[] {
  const counts = new Map<string, number>();
  for (const e of s.sim.emulator.log()) {
    if (e.status !== 400) continue;
    const id = `${e.method} ${e.path} ${e.body ?? ''}`;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([id, n]) => `${n}x ${id}`);
}

async function crashEveryPoint(t: ExecutionContext, path: CrashPath): Promise<void> {
  const sw = new KillSwitch();
  const s = await startSystem(t, { agent: false, emulator: { onRequest: sw.onRequest } });

  await runPath(s, sw, path);
  const mutations = sw.count;
  const expected = await endState(s);
  t.deepEqual(duplicateClassifierEntries(expected.vfs), [], 'the reference run has no duplicate entries');
  t.true(mutations > 0, `${path.name} sends at least one mutating request`);
  const writes = path.trigger ? 1 : 0;

  const points: Array<{ kind: 'sppctl' | 'etcd'; k: number }> = [
    ...pointsOf(mutations).map((k) => ({ kind: 'sppctl' as const, k })),
    ...pointsOf(writes).map((k) => ({ kind: 'etcd' as const, k })),
  ];
  for (const point of points) {
    const where = `${path.name}, killed after ${point.kind} ${point.kind === 'sppctl' ? 'request' : 'write'} ${point.k}`;
    await runPath(s, sw, path, point);
    const want = JSON.stringify(expected);
    await until(async () => JSON.stringify(await endState(s).catch(() => undefined)) === want, `${where}: converged`, 15_000).catch(() => undefined);
    const got = await endState(s);
    t.deepEqual(got, expected, `${where}: end state\n${s.childOutput.slice(-3000)}`);
    t.deepEqual(duplicateClassifierEntries(got.vfs), [], `${where}: duplicate classifier entries`);
    t.deepEqual(repeatedRejections(s), [], `${where}: a rejected request was repeated`);
  }
  t.log(`${path.name}: ${mutations} mutating spp-ctl requests, ${writes} etcd writes; ${points.length} injection points ran`);
}

for (const path of PATHS) {
  test(`crash at every step: ${path.name}`, (t) => crashEveryPoint(t, path));
}
