/**
 * Fault-injection soak (issue 20): plug and unplug traffic from the original
 * driver's writes while the agent is SIGKILLed, etcd restarts, the spp-ctl
 * emulator is killed (and started again, empty, on the same port), spp_vf
 * processes restart (with and without a down time) and spp-ctl's fault hooks
 * fail or drop requests, all with etcd auth on (the agent logged in as its
 * host's user, the driver as its own: every etcd restart voids their
 * tokens, issue 26). Seeded and bounded in time; after the faults stop
 * it checks the end state (keys, layout, classifier tables, VLAN tags) and
 * that no bind ever saw `port_status = error` (the whole history of every
 * port_status key, replayed from etcd), and prints its counts.
 *
 * `npm test` runs one short seed (SMOKE_SECONDS); the soak: `npm run test:chaos` (SPP_CHAOS=1).
 *   SPP_CHAOS_SEEDS=1,2,3   seeds (default 1..10)
 *   SPP_CHAOS_SECONDS=30    traffic and faults per seed (default 25)
 */
import test, { type ExecutionContext } from 'ava';
import { claimAndBind, setAction } from '../src/driver/original-writes';
import { observeVhost } from '../src/plan/observed';
import { foreignComponents, planLayout } from '../src/plan/planner';
import { FREE_VHOST, pythonJson } from '../src/protocol/codecs';
import { keys } from '../src/protocol/keys';
import { hostLayout, portNames, targetsOf } from '../src/protocol/layout';
import { withHostUsers } from './helpers/auth-system';
import { currentRevision, watchHistory } from './helpers/history';
import { startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

const enabled = process.env.SPP_CHAOS === '1';
const SEEDS = (process.env.SPP_CHAOS_SEEDS ?? '1,2,3,4,5,6,7,8,9,10').split(',').map(Number);
const SECONDS = Number(process.env.SPP_CHAOS_SECONDS ?? '25');
/** The short run in `npm test`: a seed whose first seconds hold an agent SIGKILL, emulator kills, a vf restart and spp-ctl faults among a dozen binds. */
const SMOKE_SEED = 4;
const SMOKE_SECONDS = 8;
const AGENT_ARGS = ['--spp-ctl-timeout', '1', '--resync-interval', '2'];

/** mulberry32: a small seeded generator, so a failing seed replays the same choices. */
function rng(seed: number): { next(): number; int(lo: number, hi: number): number; pick<T>(xs: readonly T[]): T } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)), pick: (xs) => xs[Math.floor(next() * xs.length)]! };
}

interface Port {
  readonly portId: string;
  readonly vhostId: number;
  readonly phys: string;
  readonly mac: string;
  readonly vlan?: number;
}

type Counts = Record<string, number>;

/** Retries an etcd write until it succeeds (etcd may be restarting), each attempt bounded. */
async function retry<T>(what: string, op: () => Promise<T>, counts: Counts, deadline: number): Promise<T> {
  for (;;) {
    try {
      return await Promise.race([op(), sleep(3000).then(() => Promise.reject(new Error(`${what}: no answer in 3 s`)))]);
    } catch (err) {
      counts.driverRetries = (counts.driverRetries ?? 0) + 1;
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

async function runSeed(t: ExecutionContext, seed: number, seconds: number): Promise<Counts> {
  // one generator per loop: each makes the same choices for a seed, whatever the timing of the other
  const r = rng(seed);
  const rf = rng(seed ^ 0x9e3779b9);
  const s = await startSystem(t, { agent: false, settings: {} });
  // as in production: auth on, the agent as its host's user, the driver as its own (issue 26: an etcd restart then also voids every token)
  const { agentEnv, driver: etcd } = await withHostUsers(t, s);
  const layout = hostLayout(s.configuration);
  const counts: Counts = {
    binds: 0,
    unbinds: 0,
    agentKills: 0,
    etcdRestarts: 0,
    etcdLongOutages: 0,
    emulatorKills: 0,
    vfRestarts: 0,
    vfRestartsWithDownTime: 0,
    sppctlFaults: 0,
  };
  const startRevision = (await currentRevision(s.client)) + 1;
  const spawn = (): void => {
    // keep the tail only: a long run logs a lot
    if (s.childOutput.length > 400_000) s.childOutput = s.childOutput.slice(-200_000);
    s.spawnAgent(AGENT_ARGS, agentEnv);
  };
  spawn();
  const vhosts = layout.flatMap((n) => n.vhostIds.map((v) => ({ vhostId: v, phys: s.configuration[layout.indexOf(n)]!.physical_network })));
  /** vhost -> the port the driver bound there and has not unbound. */
  const bound = new Map<number, Port>();
  const unbound = new Set<string>();
  let serial = 0;
  const trafficEnd = Date.now() + seconds * 1000;
  const hardEnd = trafficEnd + 60_000;
  let stopFaults = false;
  let etcdDown = false;

  const driver = async (): Promise<void> => {
    while (Date.now() < trafficEnd) {
      await sleep(r.int(50, 400));
      const free = vhosts.filter((v) => !bound.has(v.vhostId));
      if (free.length > 0 && (bound.size === 0 || r.next() < 0.65)) {
        const v = r.pick(free);
        const current = await retry('read vhost', () => etcd.get(keys.vhost(s.host, v.phys, v.vhostId)).string(), counts, hardEnd);
        if (current !== FREE_VHOST) continue; // still held by a port being unplugged
        serial += 1;
        const p: Port = {
          portId: `c4a05000-0000-0000-${String(seed).padStart(4, '0')}-${String(serial).padStart(12, '0')}`,
          vhostId: v.vhostId,
          phys: v.phys,
          mac: `fa:16:3e:${(seed % 256).toString(16).padStart(2, '0')}:${(serial >> 8).toString(16).padStart(2, '0')}:${(serial & 255).toString(16).padStart(2, '0')}`,
          ...(r.next() < 0.5 ? { vlan: r.int(1, 4094) } : {}),
        };
        await retry(
          'claim and bind',
          async () => {
            // a claim whose answer was lost may have been applied: then it names our port
            const now = await etcd.get(keys.vhost(s.host, p.phys, p.vhostId)).string();
            if (now === p.portId)
              await etcd.put(keys.bindPort(s.host, p.portId)).value(pythonJson({ vhost_id: p.vhostId, mac_address: p.mac, vlan_id: p.vlan }));
            else await claimAndBind(etcd, s.host, p);
          },
          counts,
          hardEnd,
        );
        await retry('plug', () => setAction(etcd, s.host, p.portId, 'plug'), counts, hardEnd);
        bound.set(p.vhostId, p);
        counts.binds! += 1;
      } else if (bound.size > 0) {
        const p = r.pick([...bound.values()]);
        await retry('unplug', () => setAction(etcd, s.host, p.portId, 'unplug'), counts, hardEnd);
        bound.delete(p.vhostId);
        unbound.add(p.portId);
        counts.unbinds! += 1;
      }
    }
  };

  // One outage longer than the lease TTL (2 s) near the end of the traffic (the seed's first faults stay as they were), with its own generator so the seed's other choices stay
  // as they were: the lock and the liveness lease are gone when etcd returns, and (auth on) so are the tokens (issue 26).
  const rl = rng(seed ^ 0x5bd1e995);
  let longOutageDone = false;
  /** etcd stopped for `ms`, then started on the same data dir and port. */
  const etcdOutage = async (ms: number): Promise<void> => {
    etcdDown = true;
    await s.etcd.stopMember('m0');
    await sleep(ms);
    await s.etcd.startMember('m0');
    etcdDown = false;
  };
  const faults = async (): Promise<void> => {
    while (!stopFaults && Date.now() < trafficEnd) {
      if (!longOutageDone && Date.now() >= trafficEnd - 2500) {
        longOutageDone = true;
        await etcdOutage(rl.int(3000, 5000));
        counts.etcdLongOutages! += 1;
      }
      await sleep(rf.int(300, 1500));
      if (stopFaults || Date.now() >= trafficEnd) break;
      const kind = rf.pick([
        'agentKill',
        'agentKill',
        'etcdRestart',
        'emulatorKill',
        'vfRestart',
        'vfRestart',
        'sppctlFault',
        'sppctlFault',
        'sppctlFault',
      ] as const);
      switch (kind) {
        case 'agentKill':
          await s.killChild('SIGKILL');
          await sleep(rf.int(0, 800));
          spawn();
          counts.agentKills! += 1;
          break;
        case 'etcdRestart':
          await etcdOutage(rf.int(300, 2000));
          counts.etcdRestarts! += 1;
          break;
        case 'emulatorKill':
          await s.restartSim(rf.int(100, 1000));
          counts.emulatorKills! += 1;
          break;
        case 'vfRestart': {
          const downMs = rf.next() < 0.4 ? rf.int(200, 1500) : 0;
          s.sim.emulator.restartVf(rf.int(1, layout.length), downMs);
          counts.vfRestarts! += 1;
          if (downMs > 0) counts.vfRestartsWithDownTime! += 1;
          break;
        }
        case 'sppctlFault':
          s.sim.emulator.addFault({
            count: rf.int(1, 3),
            action: rf.pick(['error', 'drop'] as const),
            when: rf.pick(['before', 'after'] as const),
            path: rf.pick(['classifier_table', '/components/[^/]+/ports$', '^/v1/vfs/[0-9]+$', '^/v1/processes$', '.']),
          });
          counts.sppctlFaults! += 1;
          break;
      }
    }
  };

  const started = Date.now();
  await Promise.all([driver(), faults()]);
  stopFaults = true;
  t.false(etcdDown);
  s.sim.emulator.clearFaults();
  if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) spawn();
  const settleFrom = Date.now();

  // converged: every bound port up, every unbound port's keys gone
  await until(
    async () => {
      for (const p of bound.values()) if ((await s.client.get(keys.portStatus(s.host, p.portId)).string()) !== 'up') return false;
      for (const id of unbound) if ((await s.client.get(keys.action(s.host, id)).string()) !== null) return false;
      return true;
    },
    `seed ${seed}: convergence (bound ${[...bound.values()].map((p) => p.portId).join(', ')})`,
    60_000,
  ).catch((err: Error) => {
    t.log(s.childOutput.slice(-6000));
    throw err;
  });
  counts.settleMs = Date.now() - settleFrom;
  // ...and stays converged through a periodic resync or two
  await sleep(2500);

  // keys
  const want: Record<string, string> = { [keys.configuration(s.host)]: (await s.client.get(keys.configuration(s.host)).string())! };
  for (const v of vhosts) want[keys.vhost(s.host, v.phys, v.vhostId)] = bound.get(v.vhostId)?.portId ?? FREE_VHOST;
  for (const p of bound.values()) {
    want[keys.action(s.host, p.portId)] = 'plug';
    want[keys.portStatus(s.host, p.portId)] = 'up';
  }
  const have = await s.keys();
  const bindValues = Object.entries(have).filter(([k]) => k.startsWith('/spp/openstack/bind_port/'));
  for (const [k] of bindValues) delete have[k];
  t.deepEqual(have, Object.fromEntries(Object.entries(want).sort(([a], [b]) => a.localeCompare(b))), `seed ${seed}: keys`);
  t.deepEqual(bindValues.map(([k]) => k).sort(), [...bound.values()].map((p) => keys.bindPort(s.host, p.portId)).sort(), `seed ${seed}: bind_port keys`);

  // spp_vf: layout, classifier tables, tags
  for (const nic of layout) {
    const status = await s.vfStatus(nic.secId);
    t.deepEqual(planLayout(nic, status), [], `seed ${seed}: vf ${nic.secId} has its whole layout`);
    t.deepEqual(foreignComponents(nic, status), [], `seed ${seed}: vf ${nic.secId} runs nothing else`);
    const expected = nic.vhostIds
      .flatMap((v) => {
        const p = bound.get(v);
        return p ? [{ type: p.vlan ? 'vlan' : 'mac', value: `${p.vlan ? `${p.vlan}/` : ''}${p.mac.toUpperCase()}`, port: portNames.toVm(v) }] : [];
      })
      .sort((a, b) => a.value.localeCompare(b.value));
    t.deepEqual(
      [...status.classifier_table].sort((a, b) => a.value.localeCompare(b.value)),
      expected,
      `seed ${seed}: vf ${nic.secId} classifier table`,
    );
    for (const v of nic.vhostIds) {
      const p = bound.get(v);
      const seen = observeVhost(status, targetsOf(nic, v));
      // A free vhost keeps whatever tags its last plug left (issue 19's default; the agent runs without
      // --unplug-resets-vlan), possibly half of them after a fault: only its classifier entry matters, checked above.
      if (!p) continue;
      t.deepEqual(seen.fromVm?.operation, p.vlan ? 'add' : 'none', `seed ${seed}: vhost ${v} tag from the VM`);
      if (p.vlan) t.is(seen.fromVm?.id, p.vlan, `seed ${seed}: vhost ${v} VLAN id`);
      t.deepEqual(seen.toVm?.operation, p.vlan ? 'del' : 'none', `seed ${seed}: vhost ${v} tag to the VM`);
    }
  }

  // no bind ever saw an error: every port_status value since the start, replayed from etcd
  const history = await watchHistory(s.client, `/spp/openstack/port_status/${s.host}/`, { fromRevision: startRevision });
  for (const p of bound.values()) await history.caughtUp(keys.portStatus(s.host, p.portId));
  await sleep(300);
  await history.close();
  const statuses = history.changes.filter((c) => c.type === 'put');
  const errors = statuses.filter((c) => c.value !== 'up');
  counts.portStatusPuts = statuses.length;
  counts.portStatusErrors = errors.length;
  counts.portsUpAtEnd = bound.size;
  counts.seconds = Math.round((Date.now() - started) / 1000);
  t.deepEqual(
    errors.map((c) => `${c.key} = ${c.value}`),
    [],
    `seed ${seed}: no valid bind ever saw error`,
  );
  t.true(counts.binds! > 0 && statuses.length > 0, `seed ${seed}: traffic happened`);
  return counts;
}

/** One seed's test: its counts go to the log and to stdout (the `CHAOS seed=N ...` line). */
function seedTest(seed: number, seconds: number, title: string): void {
  test.serial(title, async (t) => {
    t.timeout(seconds * 1000 + 180_000);
    const counts = await runSeed(t, seed, seconds);
    const line = `CHAOS seed=${seed} ${Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`;
    t.log(line);
    console.log(line);
  });
}

if (!enabled) {
  // A short run in `npm test` keeps the soak's end-state checks in step with the agent
  // (they were stale for a round once, unnoticed); the soak itself: `npm run test:chaos`.
  seedTest(SMOKE_SEED, SMOKE_SECONDS, `chaos smoke: seed ${SMOKE_SEED} for ${SMOKE_SECONDS} s (the soak: npm run test:chaos, SPP_CHAOS=1)`);
} else {
  for (const seed of SEEDS) {
    seedTest(
      seed,
      SECONDS,
      `chaos seed ${seed}: ${SECONDS} s of plug/unplug traffic with agent SIGKILLs, etcd restarts, emulator kills, vf restarts and spp-ctl faults`,
    );
  }
}
