/**
 * What a vhost's left VLAN tags save (issue 19): one vhost taken through
 * unplug and re-plug with the same VLAN, another VLAN and no VLAN; and
 * bursts of VLAN binds on one NIC of 4 vhosts, first on fresh vhosts, then
 * on vhosts last used with the same VLANs. Each case gives its time and the
 * mutating spp-ctl requests it took. Steps that only set a case up run at
 * poll 0, so paced runs spend their wall time on what they measure.
 */
import { performance } from 'node:perf_hooks';
import { keys } from '../../src/protocol/keys';
import { type BenchEnv, BenchHost } from './harness';
import { type BenchPort, claimAndBind, newPort, setAction } from './neutron';
import type { Report } from './report';
import type { Summary } from './stats';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/** A random phase of the vf's poll period before a timed step (see measure.ts). */
const randomPhase = (pollMs: number): Promise<void> => (pollMs > 0 ? sleep(Math.random() * pollMs) : Promise.resolve());

export interface CaseSamples {
  /** ms per run. */
  readonly ms: number[];
  /** Mutating spp-ctl requests per run. */
  readonly commands: number[];
}

export interface ReuseSamples {
  /** A VLAN plug on a vhost that never had tags. */
  readonly firstPlug: CaseSamples;
  /** action = unplug put -> the port's keys deleted. */
  readonly unplug: CaseSamples;
  /** A VLAN plug on a vhost last used with the same VLAN. */
  readonly replugSame: CaseSamples;
  /** ... with another VLAN. */
  readonly replugOther: CaseSamples;
  /** A flat plug on a vhost last used with a VLAN. */
  readonly flatAfterUnplug: CaseSamples;
}

const emptyCase = (): CaseSamples => ({ ms: [], commands: [] });

/** Plug put -> port_status up seen by the watcher. */
async function plug(host: BenchHost, port: BenchPort): Promise<number> {
  const { client, watch } = host.env;
  await claimAndBind(client, host.host, port);
  const key = keys.portStatus(host.host, port.portId);
  const up = watch.next((e) => e.type === 'put' && e.key === key && e.value === 'up', `port_status up of ${port.portId}`, 60_000);
  const t0 = performance.now();
  await setAction(client, host.host, port.portId, 'plug');
  return (await up).at - t0;
}

/** Unplug put -> the action key deleted (the agent deletes the port's keys in one transaction). */
async function unplug(host: BenchHost, port: BenchPort): Promise<number> {
  const { client, watch } = host.env;
  const key = keys.action(host.host, port.portId);
  const gone = watch.next((e) => e.type === 'delete' && e.key === key, `keys of ${port.portId} deleted`, 60_000);
  const t0 = performance.now();
  await setAction(client, host.host, port.portId, 'unplug');
  return (await gone).at - t0;
}

/** Runs `step` with the emulator unpaced (a set-up step, not measured). */
async function unpaced<T>(host: BenchHost, pollMs: number, step: () => Promise<T>): Promise<T> {
  host.setPollInterval(0);
  try {
    return await step();
  } finally {
    host.setPollInterval(pollMs);
  }
}

/** Times `step` at a random phase of the poll period and counts its mutating requests. */
async function timed(host: BenchHost, pollMs: number, into: CaseSamples, step: () => Promise<number>): Promise<void> {
  await randomPhase(pollMs);
  host.sim.emulator.clearLog();
  into.ms.push(await step());
  into.commands.push(host.mutations());
}

/**
 * On the host's first vhost, which must be free and without tags: first VLAN
 * plug, unplug, re-plug with the same VLAN, unplug, re-plug with another
 * VLAN, unplug, flat plug, unplug (the vhost is without tags again).
 */
export async function measureVlanReuse(host: BenchHost, runs: number, pollMs: number): Promise<ReuseSamples> {
  const slot = host.vhostSlots()[0]!;
  const out: ReuseSamples = { firstPlug: emptyCase(), unplug: emptyCase(), replugSame: emptyCase(), replugOther: emptyCase(), flatAfterUnplug: emptyCase() };
  host.setPollInterval(pollMs);
  try {
    for (let i = 0; i < runs; i++) {
      const a = newPort(slot.phys, slot.vhostId, 100);
      await timed(host, pollMs, out.firstPlug, () => plug(host, a));
      await timed(host, pollMs, out.unplug, () => unplug(host, a));
      const b = newPort(slot.phys, slot.vhostId, 100);
      await timed(host, pollMs, out.replugSame, () => plug(host, b));
      await unpaced(host, pollMs, () => unplug(host, b));
      const c = newPort(slot.phys, slot.vhostId, 200);
      await timed(host, pollMs, out.replugOther, () => plug(host, c));
      await unpaced(host, pollMs, () => unplug(host, c));
      const d = newPort(slot.phys, slot.vhostId);
      await timed(host, pollMs, out.flatAfterUnplug, () => plug(host, d));
      await unpaced(host, pollMs, () => unplug(host, d));
    }
  } finally {
    host.setPollInterval(0);
    host.env.watch.clear();
  }
  return out;
}

export interface BurstCase {
  /** First action put -> the last port_status up. */
  readonly allUp: number[];
  /** The slowest port: its own action put acknowledged -> its port_status up. */
  readonly worstPort: number[];
  /** The quickest port, the same way. */
  readonly bestPort: number[];
  /** Mutating spp-ctl requests of the burst. */
  readonly commands: number[];
}

export interface VlanBurstSamples {
  readonly fresh: BurstCase;
  readonly warm: BurstCase;
  readonly ports: number;
}

const emptyBurst = (): BurstCase => ({ allUp: [], worstPort: [], bestPort: [], commands: [] });

/** Binds a VLAN port on every vhost, then puts action = plug for all of them at once. */
async function burst(host: BenchHost, pollMs: number, into: BurstCase): Promise<BenchPort[]> {
  const { client, watch } = host.env;
  const ports = host.vhostSlots().map((s, i) => newPort(s.phys, s.vhostId, 300 + i));
  await Promise.all(ports.map((p) => claimAndBind(client, host.host, p)));
  await randomPhase(pollMs);
  host.sim.emulator.clearLog();
  const ups = ports.map((p) => {
    const key = keys.portStatus(host.host, p.portId);
    return watch.next((e) => e.type === 'put' && e.key === key && e.value === 'up', `port_status up of ${p.portId}`, 120_000);
  });
  const t0 = performance.now();
  const puts = await Promise.all(ports.map((p) => setAction(client, host.host, p.portId, 'plug').then(() => performance.now())));
  const seen = await Promise.all(ups);
  into.allUp.push(Math.max(...seen.map((e) => e.at)) - t0);
  const each = seen.map((e, i) => e.at - puts[i]!);
  into.worstPort.push(Math.max(...each));
  into.bestPort.push(Math.min(...each));
  into.commands.push(host.mutations());
  return ports;
}

/**
 * Per run a new host of 1 NIC x `vhosts` vhosts (so its vhosts are fresh):
 * a burst of VLAN binds, unplug all, the same burst again (warm).
 */
export async function measureVlanBurst(
  env: BenchEnv,
  runs: number,
  pollMs: number,
  opts: { vhosts?: number; agentArgs?: readonly string[] } = {},
): Promise<VlanBurstSamples> {
  const vhosts = opts.vhosts ?? 4;
  const out: VlanBurstSamples = { fresh: emptyBurst(), warm: emptyBurst(), ports: vhosts };
  for (let i = 0; i < runs; i++) {
    const host = await BenchHost.start(env, { nics: 1, vhosts, label: 'vlanburst' });
    try {
      await host.spawnAgent({ args: opts.agentArgs ?? [] });
      host.setPollInterval(pollMs);
      const fresh = await burst(host, pollMs, out.fresh);
      await unpaced(host, pollMs, () => Promise.all(fresh.map((p) => unplug(host, p))));
      const warm = await burst(host, pollMs, out.warm);
      await unpaced(host, pollMs, () => Promise.all(warm.map((p) => unplug(host, p))));
    } finally {
      env.watch.clear();
      await host.close();
    }
  }
  return out;
}

export interface VlanBenchCounts {
  /** Runs of the single-vhost cases at poll 0 and at the real poll period. */
  readonly reuse: number;
  readonly reuseSlow: number;
  /** Bursts (each on a new host) at poll 0 and at the real poll period. */
  readonly burst: number;
  readonly burstSlow: number;
  /** Runs of --unplug-resets-vlan at the real poll period, with one burst (0: only at poll 0, where it takes the poll-0 counts). */
  readonly resetSlow: number;
}

/** Goals of issue 19, at the real poll period. */
export const VLAN_GOALS = { unplugMs: 1200, replugSameMs: 1200, warmBurstMs: 6000 } as const;

/** Every case in both modes, at poll 0 and at `realPollMs`, into the report; the goals on the default mode's paced figures. */
export async function benchVlanReuse(env: BenchEnv, report: Report, n: VlanBenchCounts, realPollMs: number, progress: (msg: string) => void): Promise<void> {
  const modes = [
    { prefix: 'vlan', args: [] as string[], label: 'default: a free vhost keeps its tags' },
    { prefix: 'vlan_reset', args: ['--unplug-resets-vlan'], label: '--unplug-resets-vlan: unplug resets the tags, as the original agent' },
  ];
  const cases: Array<[keyof ReuseSamples, string, string]> = [
    ['firstPlug', 'first_plug', 'VLAN plug on a vhost that never had tags'],
    ['unplug', 'unplug', 'VLAN unplug: action = unplug put -> the port keys deleted'],
    ['replugSame', 'replug_same_vlan', 'VLAN plug on a vhost last used with the same VLAN'],
    ['replugOther', 'replug_other_vlan', 'VLAN plug on a vhost last used with another VLAN'],
    ['flatAfterUnplug', 'flat_after_vlan_unplug', 'flat plug on a vhost last used with a VLAN'],
  ];
  const paced: Record<string, Summary> = {};
  for (const mode of modes) {
    for (const poll of [0, realPollMs]) {
      const reset = mode.args.length > 0;
      if (poll > 0 && reset && n.resetSlow === 0) continue;
      const suffix = poll > 0 ? `.poll${poll}` : '';
      const runs = poll === 0 ? n.reuse : reset ? n.resetSlow : n.reuseSlow;
      progress(`${mode.prefix}: ${runs} runs of unplug / re-plug on one vhost at poll ${poll} ms (${mode.label})`);
      const host = await BenchHost.start(env, { nics: 1, vhosts: 2, label: mode.prefix });
      try {
        await host.spawnAgent({ args: mode.args });
        const r = await measureVlanReuse(host, runs, poll);
        for (const [key, name, what] of cases) {
          const s = report.samples(`${mode.prefix}.${name}${suffix}`, 'ms', r[key].ms, poll === 0 ? { note: `${what} (${mode.label})` } : {});
          report.samples(`${mode.prefix}.${name}${suffix}.commands`, 'requests', r[key].commands);
          if (mode.args.length === 0 && poll > 0) paced[name] = s;
        }
      } finally {
        await host.close();
      }
      const bursts = poll === 0 ? n.burst : reset ? 1 : n.burstSlow;
      progress(`${mode.prefix}: ${bursts} bursts of 4 VLAN binds on one NIC of 4 vhosts, fresh then warm, at poll ${poll} ms`);
      const b = await measureVlanBurst(env, bursts, poll, { agentArgs: mode.args });
      for (const [phase, c] of [
        ['fresh', b.fresh],
        ['warm', b.warm],
      ] as const) {
        const base = `${mode.prefix}_burst.${b.ports}_ports.${phase}`;
        const allUp = report.samples(
          `${base}.all_up${suffix}`,
          'ms',
          c.allUp,
          poll === 0
            ? {
                note: `${b.ports} VLAN ports bound on one NIC, action = plug for all at once -> the last up; vhosts ${phase === 'fresh' ? 'never tagged' : 'last used with the same VLANs'}`,
              }
            : {},
        );
        report.samples(
          `${base}.worst_port${suffix}`,
          'ms',
          c.worstPort,
          poll === 0 ? { note: 'the slowest port of the burst, from its own action put to its up' } : {},
        );
        report.samples(`${base}.best_port${suffix}`, 'ms', c.bestPort);
        report.samples(`${base}.commands${suffix}`, 'requests', c.commands);
        if (mode.args.length === 0 && poll > 0) paced[`burst_${phase}`] = allUp;
      }
    }
  }
  const at = `poll ${realPollMs} ms`;
  const check = (name: string, key: string, limit: number): void => {
    const s = paced[key];
    if (!s) {
      report.goal(name, false, 'not measured');
      return;
    }
    report.goal(name, s.median < limit, `p50 ${s.median.toFixed(0)} ms, max ${s.max.toFixed(0)} ms (${at}; pass under ${limit} ms)`);
  };
  check(`VLAN unplug under ${VLAN_GOALS.unplugMs / 1000} s`, 'unplug', VLAN_GOALS.unplugMs);
  check(`warm VLAN re-plug with the same VLAN under ${VLAN_GOALS.replugSameMs / 1000} s`, 'replug_same_vlan', VLAN_GOALS.replugSameMs);
  check(`warm burst of 4 VLAN binds on one NIC under ${VLAN_GOALS.warmBurstMs / 1000} s (all up)`, 'burst_warm', VLAN_GOALS.warmBurstMs);
}
