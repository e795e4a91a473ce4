/**
 * The planner of a tap flow: (desired, observed) -> the steps still needed.
 * The requests are the final Python agent's (upstream-final 1b: the same
 * method, path and body for IN, OUT, BOTH, plug and unplug); their order is
 * ours: a plan is steps with explicit dependencies, so commands to
 * different processes (the vfs, the mirror) go out together, and the one
 * step that breaks the source port's path runs last, right before the step
 * that mends it (docs/taas.md, "Order of the steps").
 *
 * Every step is a fact (this port attached here, or not); a step whose fact
 * already holds is left out, and a dependency on it counts as met. So a plan
 * re-made after a crash at any step sends only what is missing, and a plan
 * for a flow that is in place is empty.
 */
import type { MirrorCommand, ProcessCommand, SppCommand } from '../sppctl/commands';
import { isMirrorCommand } from '../sppctl/commands';
import { type MirrorStatus, NO_VLAN, type VfStatus } from '../sppctl/wire';
import { findComponent } from './observed';
import type { TapFlow, TapLeg } from './tap-desired';

export type TapWant = 'present' | 'absent';

export interface TapStep {
  /** `plug.in.5`: the want, the leg and upstream's number of the step (upstream-final 1b). */
  readonly id: string;
  readonly cmd: ProcessCommand;
  /** Steps that must have succeeded before this one is sent. */
  readonly after: readonly string[];
  /** `breaks`: from its answer the source port's traffic stops; `mends`: from its answer it flows again. */
  readonly role?: 'breaks' | 'mends';
}

/** What the plan is made from: the statuses of the flow's vfs and of the mirror. */
export interface TapObserved {
  readonly vf: (secId: number) => VfStatus | undefined;
  readonly mirror: MirrorStatus | undefined;
}

type Dir = 'rx' | 'tx';

const vfMove = (op: 'port_attach' | 'port_detach', secId: number, component: string, port: string, dir: Dir): SppCommand => ({
  op,
  secId,
  component,
  port,
  dir,
});
const mirrorMove = (op: 'mirror_attach' | 'mirror_detach', secId: number, component: string, port: string, dir: Dir): MirrorCommand => ({
  op,
  secId,
  component,
  port,
  dir,
});

/**
 * One leg's steps in the order they are listed (each process takes its steps
 * in list order; `after` orders steps across processes). Names as upstream:
 * RA the service-side ring, RB the source-side ring, s/d the source/service
 * vhosts.
 */
function legSteps(flow: TapFlow, leg: TapLeg, want: TapWant): TapStep[] {
  const { source: s, service: d, mirrorSecId: mm } = flow;
  const { component: mk, serviceRing: ra, sourceRing: rb } = leg;
  const id = (n: number): string => `${want === 'present' ? 'plug' : 'unplug'}.${leg.dir.toLowerCase()}.${n}`;
  const step = (n: number, cmd: ProcessCommand, after: number[], role?: TapStep['role']): TapStep => ({
    id: id(n),
    cmd,
    after: after.map(id),
    ...(role ? { role } : {}),
  });
  if (want === 'present' && leg.dir === 'IN')
    return [
      step(1, vfMove('port_attach', d.secId, d.feeder, ra, 'rx'), []),
      step(2, mirrorMove('mirror_attach', mm, mk, ra, 'tx'), []),
      step(3, vfMove('port_attach', s.secId, s.feeder, rb, 'rx'), []),
      // tx[0] gets the originals (the service port), tx[1] the clones: RA before RB
      step(4, mirrorMove('mirror_attach', mm, mk, rb, 'tx'), [2]),
      // everything else is in place before the source's ring is taken from its forwarder
      step(5, vfMove('port_detach', s.secId, s.feeder, s.toVm, 'rx'), [1, 2, 3, 4], 'breaks'),
      // never two readers of one ring: the mirror takes it only once the forwarder let go
      step(6, mirrorMove('mirror_attach', mm, mk, s.toVm, 'rx'), [5], 'mends'),
    ];
  if (want === 'present')
    return [
      step(1, vfMove('port_attach', d.secId, d.feeder, ra, 'rx'), []),
      step(2, mirrorMove('mirror_attach', mm, mk, ra, 'tx'), []),
      // the mirror writes ring:2s+1 only once RB has frames (step 6): adding it before the detach is harmless
      step(4, mirrorMove('mirror_attach', mm, mk, s.fromVm, 'tx'), [2]),
      step(5, mirrorMove('mirror_attach', mm, mk, rb, 'rx'), [4]),
      step(3, vfMove('port_detach', s.secId, s.drain, s.fromVm, 'tx'), [1, 2, 4, 5], 'breaks'),
      step(6, vfMove('port_attach', s.secId, s.drain, rb, 'tx'), [3], 'mends'),
    ];
  if (leg.dir === 'IN')
    return [
      step(1, mirrorMove('mirror_detach', mm, mk, s.toVm, 'rx'), [], 'breaks'),
      step(2, vfMove('port_attach', s.secId, s.feeder, s.toVm, 'rx'), [1], 'mends'),
      step(3, mirrorMove('mirror_detach', mm, mk, rb, 'tx'), [1]),
      step(4, vfMove('port_detach', s.secId, s.feeder, rb, 'rx'), [1]),
      step(5, mirrorMove('mirror_detach', mm, mk, ra, 'tx'), [1]),
      step(6, vfMove('port_detach', d.secId, d.feeder, ra, 'rx'), [1]),
    ];
  return [
    // both at once: the path is broken from the first of them either way
    step(1, vfMove('port_detach', s.secId, s.drain, rb, 'tx'), [], 'breaks'),
    step(2, mirrorMove('mirror_detach', mm, mk, rb, 'rx'), [], 'breaks'),
    // a forward takes one tx, and ring:2s+1 one writer: after both
    step(4, vfMove('port_attach', s.secId, s.drain, s.fromVm, 'tx'), [1, 2], 'mends'),
    step(3, mirrorMove('mirror_detach', mm, mk, s.fromVm, 'tx'), [2]),
    step(5, mirrorMove('mirror_detach', mm, mk, ra, 'tx'), [2]),
    step(6, vfMove('port_detach', d.secId, d.feeder, ra, 'rx'), [2]),
  ];
}

/**
 * Every step of the flow, whatever holds already (IN before OUT, as
 * upstream). With two legs, the second breaks the source's path only once the
 * first has mended it: the breaks never overlap, and the second's steps do not
 * wait behind the first's in a process's queue while its path is broken.
 */
export function designTap(flow: TapFlow, want: TapWant): TapStep[] {
  const out: TapStep[] = [];
  let mended: string | undefined;
  for (const leg of flow.legs) {
    const steps = legSteps(flow, leg, want);
    out.push(...steps.map((st) => (st.role === 'breaks' && mended ? { ...st, after: [...st.after, mended] } : st)));
    mended = steps.find((st) => st.role === 'mends')?.id;
  }
  return out;
}

function attached(component: { rx_port: readonly { port: string }[]; tx_port: readonly { port: string }[] } | undefined, port: string, dir: Dir): boolean {
  return (dir === 'rx' ? component?.rx_port : component?.tx_port)?.some((p) => p.port === port) === true;
}

type RunningMirror = Extract<MirrorStatus['components'][number], { name: string }>;

const isMirrorRunning = (c: MirrorStatus['components'][number]): c is RunningMirror => c.type === 'mirror';

function mirrorComponent(status: MirrorStatus | undefined, name: string): RunningMirror | undefined {
  return status?.components.find((c): c is RunningMirror => isMirrorRunning(c) && c.name === name);
}

/** Whether a step's fact already holds (an attach whose port is there, a detach whose port is not). */
export function stepHolds(cmd: ProcessCommand, observed: TapObserved): boolean {
  if (cmd.op === 'mirror_start') return mirrorComponent(observed.mirror, cmd.name) !== undefined;
  if (cmd.op === 'mirror_attach' || cmd.op === 'mirror_detach') {
    const there = attached(mirrorComponent(observed.mirror, cmd.component), cmd.port, cmd.dir);
    return cmd.op === 'mirror_attach' ? there : !there;
  }
  if (cmd.op === 'port_attach' || cmd.op === 'port_detach') {
    const status = observed.vf(cmd.secId);
    const there = status !== undefined && attached(findComponent(status, cmd.component), cmd.port, cmd.dir);
    return cmd.op === 'port_attach' ? there : !there;
  }
  return false;
}

/** The steps still needed: those whose fact does not hold, with dependencies on the others dropped (they are met). */
export function planTap(flow: TapFlow, want: TapWant, observed: TapObserved): TapStep[] {
  const steps = designTap(flow, want);
  const needed = steps.filter((s) => !stepHolds(s.cmd, observed));
  const ids = new Set(needed.map((s) => s.id));
  return needed.map((s) => ({ ...s, after: s.after.filter((a) => ids.has(a)) }));
}

/** Which process a command goes to: `vf:1`, `mirror:3`. Each takes one step at a time. */
export function processOf(cmd: ProcessCommand): string {
  return `${isMirrorCommand(cmd) ? 'mirror' : 'vf'}:${cmd.secId}`;
}

/** A direction's breaking steps and the step that mends what they break (`unplug.out`: the leg's id prefix). */
interface Break {
  readonly breaks: readonly TapStep[];
  readonly mend: TapStep;
}

const legOf = (s: TapStep): string => s.id.split('.').slice(0, 2).join('.');

function breaksOf(steps: readonly TapStep[]): Break[] {
  const out: Break[] = [];
  for (const leg of new Set(steps.map(legOf))) {
    const of = steps.filter((s) => legOf(s) === leg);
    const mend = of.find((s) => s.role === 'mends');
    const breaks = of.filter((s) => s.role === 'breaks');
    if (mend && breaks.length > 0) out.push({ breaks, mend });
  }
  return out;
}

/**
 * The steps that may start now: at most one per process (none on a process
 * with a step in flight), each with its dependencies done. A mend goes first.
 * A direction's breaking steps start together, in a round where the mend can
 * follow at once: their other dependencies done, the mend's other
 * dependencies done, and the process the mend goes to neither busy with
 * other steps nor given one this round. While they are in flight, that
 * process takes nothing else (else an answer handled before the break's
 * would start a step there, and the mend would wait a tick behind it). So a
 * break lasts one answer. Otherwise steps go in list order.
 */
export function readySteps(steps: readonly TapStep[], done: ReadonlySet<string>, started: ReadonlySet<string>): TapStep[] {
  const inFlight = steps.filter((s) => started.has(s.id) && !done.has(s.id));
  const busy = new Set(inFlight.map((s) => processOf(s.cmd)));
  const waiting = (s: TapStep): boolean => !started.has(s.id) && !done.has(s.id);
  const free = (s: TapStep): boolean => waiting(s) && s.after.every((a) => done.has(a)) && !busy.has(processOf(s.cmd));
  const pick = new Map<string, TapStep>();
  const take = (s: TapStep): void => {
    pick.set(processOf(s.cmd), s);
  };
  // a mend whose breaks are answered: nothing is more urgent
  for (const s of steps) if (s.role === 'mends' && free(s) && !pick.has(processOf(s.cmd))) take(s);
  // processes kept for a mend: its breaks are in flight, or start now
  const reserved = new Set<string>();
  for (const { breaks, mend } of breaksOf(steps)) {
    const mendProc = processOf(mend.cmd);
    if (breaks.some((b) => started.has(b.id) && !done.has(b.id))) {
      reserved.add(mendProc);
      continue;
    }
    const due = breaks.filter(waiting);
    if (due.length === 0) continue;
    const own = new Set(breaks.map((b) => b.id));
    const procs = due.map((b) => processOf(b.cmd));
    const startable =
      due.every(free) &&
      new Set(procs).size === procs.length &&
      procs.every((p) => !pick.has(p) && !reserved.has(p)) &&
      mend.after.every((a) => own.has(a) || done.has(a)) &&
      !inFlight.some((s) => processOf(s.cmd) === mendProc && !own.has(s.id)) &&
      (!pick.has(mendProc) || own.has(pick.get(mendProc)!.id));
    if (!startable) continue;
    for (const b of due) take(b);
    reserved.add(mendProc);
  }
  for (const s of steps) {
    if (s.role !== undefined || !free(s)) continue;
    const proc = processOf(s.cmd);
    if (!pick.has(proc) && !reserved.has(proc)) take(s);
  }
  return [...pick.values()];
}

export interface TickSchedule {
  /** The tick at whose end each step is answered (a process answers one command per tick, as spp_vf's 1 s loop). */
  readonly answeredAt: ReadonlyMap<string, number>;
  readonly ticks: number;
  /** Ticks the source port's path is broken, per leg (`in`, `out`): from the first breaking answer to the mending one. */
  readonly broken: ReadonlyMap<string, number>;
}

function brokenOf(steps: readonly TapStep[], at: ReadonlyMap<string, number>): Map<string, number> {
  const broken = new Map<string, number>();
  for (const leg of ['in', 'out']) {
    const of = steps.filter((s) => s.id.split('.')[1] === leg);
    const breaks = of.filter((s) => s.role === 'breaks').map((s) => at.get(s.id)!);
    const mends = of.find((s) => s.role === 'mends');
    if (breaks.length > 0 && mends) broken.set(leg, at.get(mends.id)! - Math.min(...breaks));
  }
  return broken;
}

/** When each step is answered if every process answers one command per tick and steps go out as soon as they may (our executor). */
export function scheduleTicks(steps: readonly TapStep[]): TickSchedule {
  const at = new Map<string, number>();
  const done = new Set<string>();
  const started = new Set<string>();
  let tick = 0;
  while (done.size < steps.length) {
    const ready = readySteps(steps, done, started);
    if (ready.length === 0) throw new Error('tap plan: a step waits for one that never runs');
    tick += 1;
    for (const s of ready) {
      started.add(s.id);
      done.add(s.id);
      at.set(s.id, tick);
    }
  }
  return { answeredAt: at, ticks: tick, broken: brokenOf(steps, at) };
}

/** The same steps one after the other in upstream's order (IN 1-6, then OUT 1-6): the Python agent's schedule. */
export function serialTicks(steps: readonly TapStep[]): TickSchedule {
  const num = (s: TapStep): number => (s.id.split('.')[1] === 'in' ? 0 : 10) + Number(s.id.split('.')[2]);
  const ordered = [...steps].sort((a, b) => num(a) - num(b));
  const at = new Map(ordered.map((s, i) => [s.id, i + 1] as const));
  return { answeredAt: at, ticks: ordered.length, broken: brokenOf(steps, at) };
}

/** The mirror's status after `cmd` succeeded (its bookkeeping, as far as status shows it). */
export function applyMirrorCommand(status: MirrorStatus, cmd: MirrorCommand): MirrorStatus {
  if (cmd.op === 'mirror_start') {
    const fresh = { core: cmd.core, name: cmd.name, type: 'mirror' as const, rx_port: [], tx_port: [] };
    const others = status.components.filter((c) => c.core !== cmd.core || isMirrorRunning(c));
    return { ...status, components: [...others, fresh].sort((a, b) => a.core - b.core) };
  }
  const key = cmd.dir === 'rx' ? 'rx_port' : 'tx_port';
  const components = status.components.map((c) => {
    if (!isMirrorRunning(c) || c.name !== cmd.component) return c;
    const list = c[key].filter((p) => p.port !== cmd.port);
    return { ...c, [key]: cmd.op === 'mirror_attach' ? [...c[key], { port: cmd.port, vlan: NO_VLAN }] : list };
  });
  const ports = cmd.op === 'mirror_attach' && !status.ports.includes(cmd.port) ? [...status.ports, cmd.port] : status.ports;
  return { ...status, components, ports };
}

/** The mirror components a host's configuration lists that the mirror does not run: started, no ports (upstream's start-up). */
export function planMirrorComponents(
  secId: number,
  mirrors: readonly { readonly core: number }[],
  status: MirrorStatus,
  name: (k: number) => string,
): MirrorCommand[] {
  return mirrors.flatMap((m, k) => (mirrorComponent(status, name(k)) ? [] : [{ op: 'mirror_start' as const, secId, name: name(k), core: m.core }]));
}

/**
 * The ports of the vf layout that live tap flows have moved into the mirror:
 * a NIC build must not attach them back (a ring read by the forwarder and the
 * mirror at once). Keys `component/port/dir`.
 */
export function movedPorts(flows: readonly TapFlow[], secId: number): Set<string> {
  const out = new Set<string>();
  for (const f of flows) {
    if (f.source.secId !== secId) continue;
    for (const leg of f.legs) {
      if (leg.dir === 'IN') out.add(`${f.source.feeder}/${f.source.toVm}/rx`);
      else out.add(`${f.source.drain}/${f.source.fromVm}/tx`);
    }
  }
  return out;
}
