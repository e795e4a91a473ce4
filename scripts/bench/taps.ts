/**
 * Tap-as-a-service timing (issue 31 item 6): tap create-to-up and
 * delete-to-gone for IN, OUT and BOTH with the emulator's spp_vf and
 * spp_mirror answering at their next 1 s tick (poll 1000), and the ticks the
 * source port's path is broken, beside upstream's serial order (the same
 * requests one after another in the Python agent's order: its three status
 * reads, then IN 1-6 and OUT 1-6, sent by a small serial driver with the
 * agent stopped).
 *
 * The break is measured from the emulator's answers: the bench notes when
 * each logged request got its answer (the log is read every 5 ms), matches
 * it to the flow's plan step, and counts, per mirrored direction, the poll
 * intervals from the first answer that breaks the source's path (the
 * forwarder lets go of its ring) to the answer that mends it (the mirror
 * forwards it, or the forwarder has it back).
 *
 *   node dist/scripts/bench/taps.js [pollMs]
 */
import { performance } from 'node:perf_hooks';
import { startAgent } from '../../src/daemon/daemon';
import { resolveSettings } from '../../src/daemon/settings';
import { createTap, deleteTap } from '../../src/driver';
import { createLogger } from '../../src/log';
import type { TapFlow } from '../../src/plan/tap-desired';
import { designTap, scheduleTicks, serialTicks, type TapStep, type TapWant } from '../../src/plan/tap-plan';
import { parseMappings } from '../../src/protocol/mappings';
import { buildHost } from '../../src/setup/build';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';
import { isMirrorCommand, type ProcessCommand, toMirrorRequest, toRequest } from '../../src/sppctl/commands';
import { type EmulatorServer, startEmulatorServer } from '../../src/sppctl/emulator';
import { BenchEnv, benchMappings } from './harness';
import { claimAndBind, newPort, setAction } from './neutron';
import type { Report } from './report';

export const TAP_DIRECTIONS = ['IN', 'OUT', 'BOTH'] as const;
type Direction = (typeof TAP_DIRECTIONS)[number];
const MIRROR_SEC = 3;
const MIRROR_MASK = '0x30001';

/** One create or delete: how long it took and how many poll ticks the source's path was broken, per leg. */
export interface TapTiming {
  readonly ms: number;
  /** Commands sent. */
  readonly commands: number;
  /** Ticks broken per leg (`in`, `out`), measured. */
  readonly broken: Readonly<Record<string, number>>;
  /** The same in ms (first break answered to the mend answered): the ticks round this, and the processes' ticks have their own phases. */
  readonly brokenMs: Readonly<Record<string, number>>;
  /** The plan's tick model for the same steps (one answer per process per tick). */
  readonly modelTicks: number;
  readonly modelBroken: Readonly<Record<string, number>>;
}

export interface TapBenchRow {
  readonly direction: Direction;
  readonly ours: { readonly create: TapTiming; readonly delete: TapTiming };
  readonly serial: { readonly create: TapTiming; readonly delete: TapTiming };
}

const requestKey = (cmd: ProcessCommand): string => {
  const r = isMirrorCommand(cmd) ? toMirrorRequest(cmd) : toRequest(cmd);
  return `${r.method} ${r.path} ${JSON.stringify(r.body)}`;
};

/** Notes the moment each logged request is answered (the emulator logs a request on arrival, its status on answer). */
class AnswerClock {
  private readonly answered = new Map<number, number>();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly sim: EmulatorServer) {}
  start(): void {
    this.sim.emulator.clearLog();
    this.answered.clear();
    this.timer = setInterval(() => this.read(), 5);
  }
  private read(): void {
    const at = performance.now();
    for (const e of this.sim.emulator.log()) if (e.status !== null && !this.answered.has(e.seq)) this.answered.set(e.seq, at);
  }
  /** Stops; the answer time of every mutating request, by `METHOD path body`. */
  stop(): Map<string, number> {
    clearInterval(this.timer);
    this.read();
    const out = new Map<string, number>();
    for (const e of this.sim.emulator.log()) {
      if (e.method === 'GET' || e.status === null) continue;
      out.set(`${e.method} ${e.path} ${JSON.stringify(JSON.parse(e.body ?? 'null'))}`, this.answered.get(e.seq)!);
    }
    return out;
  }
}

/** Ticks (and ms) broken per leg from the answer times of the plan's steps: first `breaks` answer to the `mends` answer. */
function brokenSpans(steps: readonly TapStep[], at: ReadonlyMap<string, number>, pollMs: number): Pick<TapTiming, 'broken' | 'brokenMs'> {
  const broken: Record<string, number> = {};
  const brokenMs: Record<string, number> = {};
  for (const leg of ['in', 'out']) {
    const of = steps.filter((s) => s.id.split('.')[1] === leg);
    const breaks = of.filter((s) => s.role === 'breaks').map((s) => at.get(requestKey(s.cmd)));
    const mends = of.find((s) => s.role === 'mends');
    const mended = mends && at.get(requestKey(mends.cmd));
    if (breaks.length === 0 || mended === undefined || breaks.some((b) => b === undefined)) continue;
    brokenMs[leg] = mended - Math.min(...(breaks as number[]));
    broken[leg] = Math.round(brokenMs[leg] / pollMs);
  }
  return { broken, brokenMs };
}

function model(steps: readonly TapStep[], serial: boolean): { modelTicks: number; modelBroken: Record<string, number> } {
  const s = serial ? serialTicks(steps) : scheduleTicks(steps);
  return { modelTicks: s.ticks, modelBroken: Object.fromEntries(s.broken) };
}

/**
 * The Python agent's order: its status reads (GET the mirror, vf vd, and vf
 * vs when it differs), then the plan's requests one after another, IN 1-6
 * then OUT 1-6 (upstream-final 1b).
 */
async function serialRun(sppctl: SppCtlClient, clock: AnswerClock, flow: TapFlow, steps: readonly TapStep[], pollMs: number): Promise<TapTiming> {
  const num = (s: TapStep): number => (s.id.split('.')[1] === 'in' ? 0 : 10) + Number(s.id.split('.')[2]);
  const ordered = [...steps].sort((a, b) => num(a) - num(b));
  clock.start();
  const t0 = performance.now();
  await sppctl.mirrorStatus(flow.mirrorSecId);
  await sppctl.vfStatus(flow.service.secId);
  if (flow.source.secId !== flow.service.secId) await sppctl.vfStatus(flow.source.secId);
  for (const s of ordered) {
    if (isMirrorCommand(s.cmd)) await sppctl.sendMirror(s.cmd);
    else await sppctl.send(s.cmd);
  }
  const ms = performance.now() - t0;
  const at = clock.stop();
  return { ms, commands: ordered.length, ...brokenSpans(steps, at, pollMs), ...model(steps, true) };
}

async function until(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench taps: ${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every direction: our agent's create and delete, then (agent stopped) the serial driver's, against one emulator at `pollMs`. */
export async function benchTaps(pollMs = 1000, log: (line: string) => void = () => {}, shared?: BenchEnv): Promise<TapBenchRow[]> {
  const env = shared ?? (await BenchEnv.start());
  const parsed = parseMappings(benchMappings(2, 2));
  const configuration = parsed.configuration!;
  const sim = await startEmulatorServer({
    listen: { host: '127.0.0.1', port: 0 },
    mappings: configuration,
    mirrors: [{ secId: MIRROR_SEC, coreMask: MIRROR_MASK }],
  });
  const host = env.hostName('taps');
  await buildHost(env.client, host, configuration, { format: 'final', mirrors: { count: 2, coreMask: MIRROR_MASK } });
  const settings = resolveSettings({ host, etcdEndpoints: env.etcd.endpoints.join(','), sppCtl: sim.url, logLevel: 'warn' });
  const agent = startAgent(settings, { logger: createLogger({ level: 'warn' }), client: env.client, sppctl: new SppCtlClient(httpTransport(sim.url)) });
  const clock = new AnswerClock(sim);
  const flows = new Map<Direction, TapFlow>();
  const rows = new Map<Direction, Pick<TapBenchRow, 'ours'>>();
  try {
    const service = newPort('phys1', 0);
    const source = newPort('phys2', 2);
    for (const p of [service, source]) {
      await claimAndBind(env.client, host, p);
      await setAction(env.client, host, p.portId, 'plug');
    }
    await until(() => {
      const v = agent.controller.view();
      return v.mirror?.tags.includes('up') === true && v.ports.filter((p) => p.tags.includes('up')).length === 2;
    }, 'the ports up and the mirror ready');
    // the layout is built at full speed; every tap command from now on waits for its process's next tick
    sim.emulator.setPollInterval(pollMs);
    for (const direction of TAP_DIRECTIONS) {
      const tapFlowId = `bench-${direction.toLowerCase()}`;
      log(`taps: ${direction} (ours)`);
      clock.start();
      const t0 = performance.now();
      const tap = { host, tapFlowId, wait: true, timeoutMs: 120_000 };
      const created = await createTap(env.client, { ...tap, servicePort: service.portId, sourcePort: source.portId, direction });
      if (created.outcome !== 'up') throw new Error(`bench taps: ${direction}: ${created.message}`);
      const createMs = performance.now() - t0;
      const createAt = clock.stop();
      const view = agent.controller.view().taps?.find((f) => f.flowId === tapFlowId);
      const flow = view && (view.intent.kind === 'plug' ? view.intent.flow : undefined);
      if (!flow) throw new Error(`bench taps: ${direction}: the agent's view has no plugged flow ${tapFlowId}`);
      flows.set(direction, flow);
      const plugSteps = designTap(flow, 'present');
      clock.start();
      const t1 = performance.now();
      const deleted = await deleteTap(env.client, tap);
      if (deleted.outcome !== 'deleted') throw new Error(`bench taps: ${direction}: ${deleted.message}`);
      const deleteMs = performance.now() - t1;
      const deleteAt = clock.stop();
      const unplugSteps = designTap(flow, 'absent');
      rows.set(direction, {
        ours: {
          create: { ms: createMs, commands: createAt.size, ...brokenSpans(plugSteps, createAt, pollMs), ...model(plugSteps, false) },
          delete: { ms: deleteMs, commands: deleteAt.size, ...brokenSpans(unplugSteps, deleteAt, pollMs), ...model(unplugSteps, false) },
        },
      });
    }
  } finally {
    await agent.stop();
  }
  try {
    // upstream's serial order against the same processes, the agent stopped so that nothing repairs the layout meanwhile
    const sppctl = new SppCtlClient(httpTransport(sim.url));
    const out: TapBenchRow[] = [];
    for (const direction of TAP_DIRECTIONS) {
      log(`taps: ${direction} (serial)`);
      const flow = flows.get(direction)!;
      const run = (want: TapWant): Promise<TapTiming> => serialRun(sppctl, clock, flow, designTap(flow, want), pollMs);
      const create = await run('present');
      const del = await run('absent');
      out.push({ direction, ...rows.get(direction)!, serial: { create, delete: del } });
    }
    return out;
  } finally {
    await sim.close();
    if (!shared) await env.close();
  }
}

const legs = (b: Readonly<Record<string, number>>): string =>
  Object.entries(b)
    .map(([leg, n]) => `${leg} ${n}`)
    .join(', ') || '-';
const legsMs = (b: Readonly<Record<string, number>>): string =>
  Object.entries(b)
    .map(([leg, ms]) => `${leg} ${ms.toFixed(0)} ms`)
    .join(', ') || '-';

/** The bench's lines: a table and the goals (ours not slower than serial; the source broken for no more ticks than upstream's). */
export function reportTaps(rows: readonly TapBenchRow[], pollMs: number): { lines: string[]; goals: { name: string; pass: boolean; detail: string }[] } {
  const lines = [`tap flows at poll ${pollMs} ms (each command answered at its process's next tick): ours vs upstream's serial order`];
  const goals: { name: string; pass: boolean; detail: string }[] = [];
  for (const r of rows) {
    for (const op of ['create', 'delete'] as const) {
      const o = r.ours[op];
      const s = r.serial[op];
      lines.push(
        `  ${r.direction.padEnd(4)} ${op.padEnd(6)} ours ${(o.ms / 1000).toFixed(2)} s (${o.commands} commands; model ${o.modelTicks} ticks), broken ticks ${legs(o.broken)} (${legsMs(o.brokenMs)}; model ${legs(o.modelBroken)})` +
          ` | serial ${(s.ms / 1000).toFixed(2)} s (${s.commands} commands; ${s.modelTicks} ticks), broken ticks ${legs(s.broken)} (${legsMs(s.brokenMs)}; model ${legs(s.modelBroken)})`,
      );
      // one tick of slack: ours includes the etcd round trips (tap_action seen, tap_status written) the serial driver does not make
      goals.push({
        name: `taps.${r.direction.toLowerCase()}.${op}: not slower than serial`,
        pass: o.ms <= s.ms + pollMs,
        detail: `ours ${(o.ms / 1000).toFixed(2)} s, serial ${(s.ms / 1000).toFixed(2)} s (+1 tick for etcd)`,
      });
      const worse = Object.entries(o.broken).filter(([leg, n]) => n > (s.broken[leg] ?? Number.POSITIVE_INFINITY));
      goals.push({
        name: `taps.${r.direction.toLowerCase()}.${op}: source broken <= upstream's ticks`,
        pass: worse.length === 0 && Object.keys(o.broken).length > 0,
        detail: `ours ${legs(o.broken)} (${legsMs(o.brokenMs)}), serial ${legs(s.broken)} (${legsMs(s.brokenMs)})`,
      });
    }
  }
  return { lines, goals };
}

/** The figures and goals into the bench's report (scripts/bench.ts). */
export function reportTapsInto(report: Report, rows: readonly TapBenchRow[], pollMs: number): void {
  for (const r of rows) {
    for (const op of ['create', 'delete'] as const) {
      const name = `taps.${r.direction.toLowerCase()}.${op}.poll${pollMs}`;
      for (const who of ['ours', 'serial'] as const) {
        const x = r[who][op];
        report.value(
          `${name}.${who}`,
          'ms',
          x.ms,
          `${x.commands} commands; tick model ${x.modelTicks}; source broken (ticks) ${legs(x.broken)} (${legsMs(x.brokenMs)})`,
        );
      }
    }
  }
  for (const g of reportTaps(rows, pollMs).goals) report.goal(g.name, g.pass, g.detail);
}

if (require.main === module) {
  const pollMs = Number(process.argv[2] ?? 1000);
  benchTaps(pollMs, (l) => process.stderr.write(`${l}\n`))
    .then((rows) => {
      const { lines, goals } = reportTaps(rows, pollMs);
      for (const l of lines) console.log(l);
      for (const g of goals) console.log(`GOAL ${g.pass ? 'pass' : 'fail'} ${g.name}: ${g.detail}`);
    })
    .catch((err: Error) => {
      console.error(err.stack ?? String(err));
      process.exit(1);
    });
}
