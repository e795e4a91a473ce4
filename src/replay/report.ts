/**
 * What a replay reports: per host, the final state of its NICs and ports,
 * the commands sent, the invariants, and on request a trace and frames.
 * Types (and the words for a vhost's observed state) only, so the engine,
 * its worker pool, the formatter and --follow share them.
 */

import type { ViewFrame } from '../agent/view';
import type { Logger } from '../log';
import type { VhostObserved } from '../plan/observed';
import type { VfStatus, VlanSetting } from '../sppctl/wire';
import type { ReplayInput } from './input';
import type { Violation } from './invariants';
import type { HostStep, RecordedSppCtl } from './steps';

export interface ReplayOptions {
  /** Only this host (default: every host found in the inputs). */
  readonly host?: string;
  /** vf id -> status the emulated vfs start in (default: empty, as after a reboot). Needs exactly one host. */
  readonly observed?: ReadonlyMap<number, VfStatus>;
  /** Stop after the last step at or below this revision. */
  readonly untilRevision?: number;
  /** Keep the controller's view after every step (the visualizer's slider). */
  readonly frames?: boolean;
  /** Keep a trace per step: agent writes, spp-ctl commands, machine transitions. */
  readonly step?: boolean;
  /** Called after every step of every host. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Hosts replayed at once in each thread (default 16). Does not change the report. */
  readonly concurrency?: number;
  /**
   * Threads to replay on, this one included: hosts are shared out to this
   * thread and jobs - 1 worker threads; 1 replays in this thread only. Default:
   * os.availableParallelism(), but one thread per 10,000 keys and steps at
   * most (a worker's start-up costs about a second of CPU). Does not change the
   * report. A `logger` forces 1 (it cannot cross a thread); with workers,
   * onProgress is called as their counts arrive (`done` may jump by several steps).
   */
  readonly jobs?: number;
  /** The controllers' logger (default silent). */
  readonly logger?: Logger;
  /** Where options.observed was read (a live spp-ctl's URL), for the report. */
  readonly observedFrom?: string;
  /** HostSession.step returns what each step caused, without keeping it (--follow prints it as it happens). */
  readonly traceSteps?: boolean;
  /** Keep every mutating spp-ctl request of each host (HostReport.requests). */
  readonly requests?: boolean;
  /** Replay as an agent run with --unplug-resets-vlan (an event log's start entry sets it for its host). */
  readonly unplugResetsVlan?: boolean;
}

export interface InputSummary {
  readonly source: string;
  readonly format: ReplayInput['format'];
  /** Keys of a snapshot, entries of an event log, listed keys and events of etcd history. */
  readonly size: number;
  /** etcd history: the keys as of this revision, then `events` changes up to `lastRevision`. */
  readonly history?: { readonly listRevision: number; readonly keys: number; readonly events: number; readonly lastRevision: number };
}

export interface NicReport {
  readonly secId: number;
  readonly pciAddress: string;
  readonly physicalNetwork: string;
  readonly vhostIds: readonly number[];
  readonly state: string;
  readonly lastError?: string;
}

export interface PortReport {
  readonly portId: string;
  /**
   * Final port machine state; `removed` for a port whose keys the replay saw
   * deleted, `no machine` for one whose keys give the agent nothing to do.
   */
  readonly state: string;
  readonly vhostId?: number;
  readonly desired: string;
  readonly observed?: string;
  readonly lastError?: string;
}

/** A tap flow (TaaS) as the replay saw it: its machine's states in order and the commands its runs sent. */
export interface TapReport {
  readonly flowId: string;
  /** The last state (`removed` once the flow was deleted). */
  readonly state: string;
  readonly states: readonly string[];
  /** vf and mirror commands, in spp-ctl's text form, in the order the runs reported them. */
  readonly commands: readonly string[];
  readonly lastError?: string;
}

export interface StepReport {
  readonly revision: number;
  readonly label: string;
  /** What the step caused, in order: agent writes, spp-ctl commands, NIC and port transitions. */
  readonly trace: readonly string[];
}

export interface RecordedComparison {
  readonly recorded: number;
  readonly replayed: number;
  /**
   * The recorded requests spp-ctl refused (an error status) or left without
   * an answer, with that answer. The agent retries them; the replay's
   * emulator accepts the first try, so they are not compared.
   */
  readonly failed: readonly string[];
  /** The replay's requests against the recorded ones spp-ctl accepted; empty when they are the same. */
  readonly differences: readonly string[];
}

export interface HostReport {
  readonly host: string;
  readonly revision: number;
  readonly steps: number;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly configurationErrors: readonly string[];
  readonly nics: readonly NicReport[];
  readonly ports: readonly PortReport[];
  /** Tap flows, when a step carried a tap key. */
  readonly taps?: readonly TapReport[];
  /** spp-ctl commands to the vfs and the mirror in the order the agent sent them (text form, e.g. `mirror 3: port add ring:8 tx mirror_0`). */
  readonly commands: readonly string[];
  /** With options.requests: the same commands as HTTP requests (requestText form). */
  readonly requests?: readonly string[];
  /** Event logs only: the replay's requests against the recorded ones. */
  readonly recorded?: RecordedComparison;
  readonly invariants: readonly Violation[];
  readonly trace?: readonly StepReport[];
  readonly frames?: readonly ViewFrame[];
}

export interface ReplayReport {
  readonly inputs: readonly InputSummary[];
  /** How the spp-ctl side was emulated. */
  readonly observed: string;
  readonly hosts: readonly HostReport[];
  /** Invariants of keys that belong to no host. */
  readonly invariants: readonly Violation[];
  /** Every invariant holds. */
  readonly ok: boolean;
}

/** One host's share of the replay: its steps (already cut at untilRevision) and what its event log recorded. */
export interface HostJob {
  readonly host: string;
  readonly steps: readonly HostStep[];
  readonly recorded?: RecordedSppCtl;
}

/** The options a worker thread can take: plain data, no callbacks. */
export type WorkerReplayOptions = Pick<ReplayOptions, 'observed' | 'untilRevision' | 'frames' | 'step' | 'concurrency' | 'requests' | 'unplugResetsVlan'>;

function describeVlan(what: string, v: VlanSetting | undefined): string {
  if (v === undefined) return `${what} not attached`;
  return v.operation === 'none' ? '' : `${what} ${v.operation === 'add' ? `add_vlantag ${v.id}` : 'del_vlantag'}`;
}

/** What spp_vf holds for the port's vhost after the agent's last run. */
export function describeObserved(o: VhostObserved): string {
  const parts = [o.rule ? `classifier mac ${o.rule.mac}${o.rule.vlan !== undefined ? ` vlan ${o.rule.vlan}` : ''}` : 'no classifier entry'];
  for (const [what, v] of [
    ['vhost rx', o.fromVm],
    ['ring tx', o.toVm],
  ] as const) {
    const d = describeVlan(what, v);
    if (d) parts.push(d);
  }
  return parts.join(', ');
}
