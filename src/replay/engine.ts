/**
 * The replay: runs the agent's own Controller (machines and planner) over the
 * steps of the inputs, one host at a time per Controller, against the
 * in-process spp-ctl emulator and an in-memory key space, and reports what
 * the agent did and which protocol invariants do not hold. No clock, no
 * sockets: the same inputs give the same report.
 */

import { availableParallelism } from 'node:os';
import { SimulatedClock } from 'xstate';
import { Controller } from '../agent/controller';
import { readConfiguration } from '../agent/host-state';
import { intentOf } from '../agent/intent';
import { describeIntent, type ViewFrame } from '../agent/view';
import { type Logger, silentLogger } from '../log';
import { type PortIntent, vhostOf } from '../plan/desired';
import { keys } from '../protocol/keys';
import { groupHostViews } from '../setup/view';
import { inProcessTransport, SppCtlClient } from '../sppctl/client';
import { describeCommand, type HttpRequest, toProcessRequest } from '../sppctl/commands';
import { createEmulator } from '../sppctl/emulator';
import { releaseForStatuses } from '../sppctl/releases';
import type { VfStatus } from '../sppctl/wire';
import { InputError, inputSize, type ReplayInput } from './input';
import { checkHost, checkInvariants } from './invariants';
import { KeySpace, KeySpaceWriter } from './keyspace';
import { hostWeight, replayInWorkers, shareHosts, workerScript } from './pool';
import {
  describeObserved,
  type HostJob,
  type HostReport,
  type NicReport,
  type PortReport,
  type ReplayOptions,
  type ReplayReport,
  type StepReport,
  type TapReport,
  type WorkerReplayOptions,
} from './report';
import { compareRequests, requestText } from './request-diff';
import { type HostStep, planSteps, type RecordedSppCtl } from './steps';
import { TapTracker } from './tap-tracker';
import { commandsForStatus } from './vf-status-input';

/** setTimeout's ceiling: a longer delay would fire at once. */
const NEVER_MS = 2 ** 31 - 1;
const SETTLE_ROUNDS = 10_000;
/** Keys + steps per thread below which another thread costs more than it saves (docs/performance.md). */
const WEIGHT_PER_THREAD = 10_000;

export async function replay(inputs: readonly ReplayInput[], options: ReplayOptions = {}): Promise<ReplayReport> {
  const jobs = options.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new InputError(`jobs must be a whole number of at least 1, not ${jobs}`);
  const plan = planSteps(inputs);
  let hostNames = [...plan.hosts.keys()].sort();
  if (options.host !== undefined) {
    if (!plan.hosts.has(options.host)) throw new InputError(`host ${options.host} has no keys in the input (hosts found: ${hostNames.join(', ') || 'none'})`);
    hostNames = [options.host];
  }
  if (options.observed && hostNames.length !== 1) {
    throw new InputError(`vf statuses (--observed) describe one host, but the input has ${hostNames.length} (${hostNames.join(', ')}); choose one with --host`);
  }
  const until = options.untilRevision;
  const work: HostJob[] = hostNames.map((host) => {
    const all = plan.hosts.get(host) ?? [];
    const stop = until === undefined ? -1 : all.findIndex((s) => s.revision > until);
    const recorded = plan.recorded.get(host);
    return { host, steps: stop < 0 ? all : all.slice(0, stop), ...(recorded ? { recorded } : {}) };
  });
  const total = work.reduce((n, w) => n + w.steps.length, 0);
  let done = 0;
  const progress = (steps: number): void => {
    if (!options.onProgress) return;
    done += steps;
    options.onProgress(done, total);
  };

  // A worker costs an isolate, module loading and a cold JIT (about a second of CPU):
  // by default a thread is added per WEIGHT_PER_THREAD of work only; an explicit `jobs` is taken as given.
  // A logger cannot cross a thread: the caller gets its records only from an in-thread replay.
  const wanted = options.jobs === undefined ? Math.min(jobs, Math.ceil(work.reduce((n, w) => n + hostWeight(w), 0) / WEIGHT_PER_THREAD)) : jobs;
  const threads = options.logger || workerScript() === undefined ? 1 : Math.min(wanted, work.length);
  const inThread = { ...options, logger: options.logger ?? silentLogger() };
  let reports: Map<string, HostReport>;
  if (threads <= 1) {
    reports = await replayHosts(work, inThread, () => progress(1));
  } else {
    // this thread replays the first share itself, the workers the others
    const [own, ...others] = shareHosts(work, threads);
    // whichever side fails first stops the other
    const stopWorkers = new AbortController();
    const stopOwn = new AbortController();
    const [mine, theirs] = await Promise.all([
      replayHosts(own!, inThread, () => progress(1), undefined, stopOwn.signal).catch((err: unknown) => {
        stopWorkers.abort();
        throw err;
      }),
      replayInWorkers(others, workerOptions(options), options.onProgress ? progress : undefined, stopWorkers.signal).catch((err: unknown) => {
        stopOwn.abort();
        throw err;
      }),
    ]);
    reports = new Map([...mine, ...theirs]);
  }

  const hosts = hostNames.map((h) => reports.get(h)!);
  return assembleReport(inputs, hosts, options.host === undefined ? plan.hostless : {}, options);
}

/** The whole report from the hosts' reports; `hostless`: the keys that belong to no host, checked here. */
export function assembleReport(
  inputs: readonly ReplayInput[],
  hosts: readonly HostReport[],
  hostless: Record<string, string>,
  options: ReplayOptions,
): ReplayReport {
  const invariants = checkInvariants(hostless);
  return {
    inputs: inputs.map((i) => ({
      source: i.source,
      format: i.format,
      size: inputSize(i),
      ...(i.kind === 'history'
        ? {
            history: {
              listRevision: i.listRevision,
              keys: i.kvs.length,
              events: i.events.length,
              lastRevision: i.events[i.events.length - 1]?.revision ?? i.listRevision,
            },
          }
        : {}),
    })),
    observed: options.observedFrom
      ? `the vfs start as ${options.observedFrom} reports them now (read with GET only; nothing is sent to it); emulated in-process in lenient mode`
      : options.observed
        ? `the vfs start in the given status (${[...options.observed.keys()].map((id) => `vf ${id}`).join(', ')}), emulated in-process in lenient mode`
        : 'every spp_vf starts empty (as after a host reboot) unless an event log recorded its status; emulated in-process in lenient mode (intended spp-ctl behaviour, no 4096-byte status limit)',
    hosts,
    invariants,
    ok: invariants.length === 0 && hosts.every((h) => h.invariants.length === 0),
  };
}

function workerOptions(o: ReplayOptions): WorkerReplayOptions {
  const { observed, untilRevision, frames, step, concurrency, requests, unplugResetsVlan } = o;
  return { observed, untilRevision, frames, step, concurrency, requests, unplugResetsVlan };
}

/**
 * Replays hosts in this thread, `concurrency` at a time (each host is its own
 * Controller and emulator; interleaving them only changes the order reports
 * arrive in, not their content).
 */
export async function replayHosts(
  work: readonly HostJob[],
  options: ReplayOptions & { readonly logger: Logger },
  progress: () => void,
  onReport?: (report: HostReport) => void,
  /** No more hosts are started once it is aborted (the replay failed elsewhere). */
  stop?: AbortSignal,
): Promise<Map<string, HostReport>> {
  const reports = new Map<string, HostReport>();
  let next = 0;
  const run = async (): Promise<void> => {
    for (let w = work[next++]; w !== undefined && !stop?.aborted; w = work[next++]) {
      const report = await replayHost(w.host, w.steps, w.recorded, options, progress);
      reports.set(w.host, report);
      onReport?.(report);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 16, work.length)) }, run));
  return reports;
}

/** The first valid configuration the host's steps carry: the emulator's vfs (and its spp_mirror) follow it. */
function configurationOf(host: string, steps: readonly HostStep[]) {
  const key = keys.configuration(host);
  for (const s of steps) {
    const raw =
      s.event.type === 'reset'
        ? s.event.entries.find(([k]) => k === key)?.[1].value
        : s.event.type === 'put' && s.event.key === key
          ? s.event.value
          : undefined;
    if (raw === undefined) continue;
    const view = readConfiguration(host, raw);
    if (view.state === 'valid') return view;
  }
  return undefined;
}

/**
 * The spp_mirror a configuration's `mirror` list implies (TaaS): client id
 * NICs + 1 as the agent expects (devstack), one worker core per mirror
 * component, and a master core below them, so that tap keys in the history
 * replay through the tap machines instead of waiting for a mirror that
 * never connects.
 */
function mirrorsOf(view: ReturnType<typeof configurationOf>): { secId: number; coreMask: string }[] {
  const decls = view?.mirror ?? [];
  if (!view || decls.length === 0) return [];
  const cores = decls.map((m) => m.core);
  // a master below the workers: core 0 (spp config build never gives it to a mirror, it is a master core)
  const mask = cores.reduce((m, c) => m | (1n << BigInt(c)), Math.min(...cores) > 0 ? 1n : 0n);
  // the agent's mirrorSecIdOf: one id after the vfs'
  return [{ secId: view.configuration.length + 1, coreMask: `0x${mask.toString(16)}` }];
}

async function replayHost(
  host: string,
  steps: readonly HostStep[],
  recorded: RecordedSppCtl | undefined,
  options: ReplayOptions,
  progress: () => void,
): Promise<HostReport> {
  const session = await openHost(host, steps, recorded, options);
  try {
    for (const step of steps) {
      await session.step(step);
      progress();
    }
    return session.report();
  } finally {
    await session.close();
  }
}

/** One host's replay, fed a step at a time (the CLI's --follow feeds steps as etcd makes them). */
export interface HostSession {
  readonly host: string;
  /** Feeds one step and waits until the agent has settled; what the step caused (empty unless options.step or traceSteps). */
  step(step: HostStep): Promise<StepReport>;
  /** The host as of the last step. */
  report(): HostReport;
  close(): Promise<void>;
}

/**
 * Opens a host's replay: its emulator follows the first valid configuration
 * in `known` (the steps known so far), its vfs start in options.observed or
 * the status the event log recorded.
 */
export async function openHost(host: string, known: readonly HostStep[], recorded: RecordedSppCtl | undefined, options: ReplayOptions): Promise<HostSession> {
  const until = options.untilRevision;
  const valid = configurationOf(host, known);
  const configuration = valid?.configuration;
  const preset = options.observed ?? recorded?.firstStatus;
  // recorded statuses of a later SPP (classifier, master-lcore, mixed types on a core) need that release to be set up
  const sppVersion = releaseForStatuses(preset?.values() ?? []);
  const emulator = createEmulator({ mappings: configuration ?? [], mirrors: mirrorsOf(valid), lenient: true, now: () => 0, log: false, sppVersion });
  const sppctl = new SppCtlClient(inProcessTransport(emulator), { now: () => 0 });
  for (const [secId, status] of [...(preset ?? new Map<number, VfStatus>())].sort(([a], [b]) => a - b)) {
    if (!emulator.secIds().includes(secId)) {
      emulator.close();
      throw new InputError(
        `vf status for vf ${secId}: host ${host}'s configuration has no such spp_vf (it has ${
          emulator
            .secIds()
            .map((i) => `vf ${i}`)
            .join(', ') || 'none'
        })`,
      );
    }
    for (const cmd of commandsForStatus(status)) {
      await sppctl.send(cmd).catch((err: Error) => {
        emulator.close();
        throw new InputError(`vf status for vf ${secId} cannot be set up in the emulator: ${describeCommand(cmd)}: ${err.message}`);
      });
    }
  }

  const space = new KeySpace();
  const input = new KeySpace();
  const writer = new KeySpaceWriter(space);
  // A record that holds the agent's own writes (an event log, etcd's history
  // with an agent at work) already brings their watch events: from its first
  // such step on, the replay's own writes are not fed back.
  let feedback = !known.some((s) => s.logged);
  const commands: string[] = [];
  const requests: HttpRequest[] = [];
  let trace: string[] = [];
  let tracing = options.step === true || options.traceSteps === true;
  const lastSeen = new Map<string, { state: string; revision: number }>();
  let stepCount = 0;
  const controller = new Controller({
    host,
    sppctl,
    etcd: writer,
    logger: options.logger ?? silentLogger(),
    portTimers: { reassertMs: [], backoffBaseMs: 500, backoffMaxMs: 30_000 },
    resyncIntervalMs: NEVER_MS,
    nicBackoff: { baseMs: 250, maxMs: 10_000 },
    // The replay's clock does not move: a backoff or retry waits for ever
    // rather than firing during whichever later step the wall clock reaches.
    clock: new SimulatedClock(),
    unplugResetsVlan: options.unplugResetsVlan === true || recorded?.unplugResetsVlan === true,
    now: () => 0,
    onCommand: (cmd, text) => {
      commands.push(text);
      if (recorded || options.requests) requests.push(toProcessRequest(cmd));
      if (tracing) trace.push(text);
    },
    onHistory: (portId, entry) => {
      lastSeen.set(portId, { state: entry.state, revision: entry.revision });
      if (tracing && !entry.commands) trace.push(`port ${portId}: ${entry.what}${entry.error ? ` (${entry.error})` : ''}`);
    },
    onNicState: (secId, state, lastError) => {
      if (tracing) trace.push(`nic vf ${secId}: ${state}${lastError ? ` (${lastError})` : ''}`);
    },
  });
  const taps = new TapTracker(
    () => controller.view(),
    (line) => {
      if (tracing) trace.push(line);
    },
    (changed) => controller.changes.subscribe(changed),
  );
  // Everything the agent does here is promise work (the emulator has no latency
  // and no poll interval), so a turn of the event loop lets it run while the
  // controller is busy (the daemon's own test); controller.idle() then confirms it settled.
  let written = 0;
  const settle = async (): Promise<void> => {
    for (let round = 0; ; round++) {
      for (let turns = 0; turns < 100 && (turns === 0 || controller.busy()); turns++) await new Promise((r) => setImmediate(r));
      await controller.idle(600_000);
      if (tracing) {
        for (const w of writer.log.slice(written)) trace.push(`agent: ${w.what}${w.events.length > 0 ? ` (revision ${w.events[0]!.revision})` : ''}`);
        written = writer.log.length;
      }
      if (writer.pending.length === 0) return;
      const pending = writer.pending;
      writer.pending = [];
      if (!feedback) return;
      if (round >= SETTLE_ROUNDS) throw new Error(`host ${host}: the agent keeps writing after ${SETTLE_ROUNDS} rounds of its own events`);
      for (const ev of pending) controller.handle(ev);
    }
  };

  const feed = (ev: HostStep['event']): void => {
    if (ev.type === 'reset') {
      space.reset(ev.entries, ev.revision);
      input.reset(ev.entries, ev.revision);
      for (const [k] of ev.entries) taps.sawKey(k);
    } else {
      space.apply(ev);
      input.apply(ev);
      taps.sawKey(ev.key);
    }
    controller.handle(ev);
  };

  const frames: ViewFrame[] = [];
  const stepReports: StepReport[] = [];
  const step = async (s: HostStep): Promise<StepReport> => {
    if (s.logged) feedback = false;
    trace = [];
    feed(s.event);
    if (s.more) for (const ev of s.more) feed(ev);
    await settle();
    stepCount++;
    // the step's own revision: the agent's writes during the step may have gone past it (view.revision)
    if (options.frames) frames.push({ revision: s.revision, label: s.label, view: controller.view() });
    const report: StepReport = { revision: s.revision, label: s.label, trace };
    if (options.step) stepReports.push(report);
    return report;
  };

  const report = (): HostReport => {
    const view = controller.view();
    const nics: NicReport[] = view.nics.map((n) => ({
      secId: n.secId,
      pciAddress: n.layout.nic.pci_address,
      physicalNetwork: n.layout.nic.physical_network,
      vhostIds: n.layout.vhostIds,
      state: n.state,
      ...(n.lastError ? { lastError: n.lastError } : {}),
    }));
    const ports: PortReport[] = view.ports.map((p) => ({
      portId: p.portId,
      state: p.state,
      ...vhostField(p.intent),
      desired: describeIntent(p.intent),
      ...(p.observed ? { observed: describeObserved(p.observed) } : {}),
      ...(p.lastError ? { lastError: p.lastError } : {}),
    }));
    const running = new Set(view.ports.map((p) => p.portId));
    for (const [portId, last] of lastSeen) {
      if (running.has(portId)) continue;
      ports.push({ portId, state: 'removed', desired: `keys deleted (last state ${last.state} at revision ${last.revision})` });
    }
    // ports whose keys give the agent nothing to do never get a machine; list them with the reason
    const config = controller.store.configuration();
    const facts = { host, layout: config.state === 'valid' ? config.layout : [], vhosts: controller.store.vhosts(), claims: controller.store.claims() };
    const listed = new Set(ports.map((p) => p.portId));
    for (const portId of controller.store.portIds()) {
      if (listed.has(portId)) continue;
      ports.push({ portId, state: 'no machine', desired: describeIntent(intentOf(controller.store.portKeys(portId), facts)) });
    }
    ports.sort((a, b) => (a.portId < b.portId ? -1 : a.portId > b.portId ? 1 : 0));
    const hostView = groupHostViews(input.values(), host).hosts[0];
    return {
      host,
      revision: view.revision,
      steps: stepCount,
      configuration: view.configuration,
      configurationErrors: view.configurationErrors,
      nics,
      ports,
      ...tapsField(taps.report()),
      commands: [...commands],
      ...(options.requests ? { requests: requests.map(requestText) } : {}),
      ...(recorded
        ? {
            recorded: compareRequests(
              recorded.requests.filter((r) => until === undefined || r.revision <= until),
              requests,
            ),
          }
        : {}),
      invariants: hostView ? checkHost(hostView) : [],
      ...(options.step ? { trace: [...stepReports] } : {}),
      ...(options.frames ? { frames: [...frames] } : {}),
    };
  };

  return {
    host,
    step,
    report,
    async close() {
      tracing = false;
      await controller.stop(100, 100);
      emulator.close();
    },
  };
}

function tapsField(taps: TapReport[]): { taps?: TapReport[] } {
  return taps.length > 0 ? { taps } : {};
}

function vhostField(intent: PortIntent): { vhostId?: number } {
  const vhostId = vhostOf(intent);
  return vhostId === undefined ? {} : { vhostId };
}
