/**
 * What the controller's parts share for one host: the options, the etcd
 * cache, the spp-ctl gate and the log. The running port and NIC machines and
 * who wants which vhost are the coordinator's (coordinator.ts). The parts
 * (config/port sync, NIC lifecycle, plug/unplug effects, idle detection)
 * each hold this one object; none reaches another through a global.
 */

import { Subject } from 'rxjs';
import type { Actor, ActorOptions, AnyActorLogic } from 'xstate';
import type { NicMachine } from '../../machines/nic';
import type { PortMachine, PortTimers } from '../../machines/port';
import { stateName } from '../../machines/state-name';
import type { PortTag } from '../../machines/tags';
import type { Logger } from '../log';
import type { PortIntent } from '../plan/desired';
import { type FreeVhost, freeVhost } from '../plan/planner';
import type { NicLayout } from '../protocol/layout';
import type { ProcessCommand } from '../sppctl/commands';
import { HostStore } from './host-state';
import type { EtcdWriter, SppCtlApi } from './io';
import { type AgentObserver, NO_OBSERVER } from './observer';
import { ReleaseAwareSppCtl } from './release-belief';
import { SppCtlGate } from './sppctl-gate';
import type { VfWorker } from './vf-worker';
import type { HistoryEntry } from './view';

export interface ControllerOptions {
  readonly host: string;
  readonly sppctl: SppCtlApi;
  readonly etcd: EtcdWriter;
  readonly logger: Logger;
  readonly portTimers?: PortTimers;
  /** Periodic re-read of every vf status (default 30 s). */
  readonly resyncIntervalMs?: number;
  readonly nicBackoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Time source for history entries (injected so replays are deterministic). */
  readonly now?: () => number;
  /** Every spp-ctl command (to a vf or the mirror) just before it is sent, with its text form (describeProcessCommand). */
  readonly onCommand?: (cmd: ProcessCommand, text: string) => void;
  /** Entries kept per port in its history. */
  readonly historyLimit?: number;
  /** Every port history entry as it is made (the replay's --step trace; ports vanish from view() once removed). */
  readonly onHistory?: (portId: string, entry: HistoryEntry) => void;
  /** Every NIC machine state change. */
  readonly onNicState?: (secId: number, state: string, lastError?: string) => void;
  /** The machines' timers (backoff, retry, resync); default the wall clock. The replay injects its own. */
  readonly clock?: ActorOptions<AnyActorLogic>['clock'];
  /** A free vhost's VLAN tags are reset as the original agent's unplug does (--unplug-resets-vlan); default: left for the next plug. */
  readonly unplugResetsVlan?: boolean;
  /** Port facts for the ops endpoint's metrics (src/ops/metrics.ts); default none. */
  readonly observer?: AgentObserver;
}

export interface PortRuntime {
  readonly portId: string;
  readonly actor: Actor<PortMachine>;
  /** The intent last delivered to the machine: a sync that derives an equal one sends nothing. */
  lastIntent: PortIntent;
  readonly history: HistoryEntry[];
  /**
   * The run that just ended logged its outcome (`port is up`, `port
   * unplugged`): the transition it causes says the same, so it goes to debug.
   */
  outcomeLogged: 'up' | 'unplugged' | undefined;
}

export interface NicRuntime {
  readonly layout: NicLayout;
  readonly worker: VfWorker;
  readonly actor: Actor<NicMachine>;
  /** Set by a build that found the vf different from the cached view: ports must re-plan. */
  changed: boolean;
}

export class HostRuntime {
  readonly host: string;
  readonly store: HostStore;
  /** A notice whenever something visible changed (for the visualizer's live updates). */
  readonly changes = new Subject<{ readonly portId?: string; readonly secId?: number }>();

  /** A notice on `changes`; none is built while nobody listens (the replay of a host without taps: several per port). */
  notify(change: { readonly portId?: string; readonly secId?: number }): void {
    if (this.changes.observed) this.changes.next(change);
  }
  /** The configuration the NICs were built from; undefined until one is valid. */
  active: { readonly raw: string; readonly layout: readonly NicLayout[] } | undefined;
  stopping = false;
  /** Every spp-ctl request goes through it: closed by stop(). */
  readonly sppctl: SppCtlGate;
  /** The SPP release believed behind each vf, and the classifier spelling it accepts. */
  readonly releases: ReleaseAwareSppCtl;
  /** Port runs (plug, unplug, error report) not finished yet: stop() lets them write what they learned. */
  readonly runs = new Set<Promise<unknown>>();
  readonly log: Logger;
  readonly now: () => number;
  /** What a vhost no port wants should carry. */
  readonly free: FreeVhost;
  /** Options given to createActor for every machine. */
  readonly actorOptions: { clock?: ActorOptions<AnyActorLogic>['clock'] };
  readonly observer: AgentObserver;

  constructor(readonly opts: ControllerOptions) {
    this.host = opts.host;
    this.store = new HostStore(opts.host);
    this.free = freeVhost(opts.unplugResetsVlan === true);
    this.log = opts.logger.child({ host: opts.host });
    this.now = opts.now ?? Date.now;
    this.actorOptions = opts.clock ? { clock: opts.clock } : {};
    this.observer = opts.observer ?? NO_OBSERVER;
    this.releases = new ReleaseAwareSppCtl(opts.sppctl, (secId, belief, previous) => {
      this.log.info('spp release belief', { secId, family: belief.family, basis: belief.basis, reason: belief.reason, was: previous.family });
      this.observer.sppRelease?.(secId, belief);
      this.notify({ secId });
    });
    this.sppctl = new SppCtlGate(this.releases);
  }

  /** Appends an entry to the port's history (kept to historyLimit) and hands it to onHistory. */
  appendHistory(runtime: PortRuntime, revision: number, what: string, error?: string, commands?: readonly string[]): void {
    const snap = runtime.actor.getSnapshot();
    const entry: HistoryEntry = {
      at: this.now(),
      revision,
      what,
      state: stateName(snap.value),
      tags: [...snap.tags] as PortTag[],
      ...(error ? { error } : {}),
      ...(commands ? { commands } : {}),
    };
    runtime.history.push(entry);
    this.opts.onHistory?.(runtime.portId, entry);
    const limit = this.opts.historyLimit ?? 100;
    if (runtime.history.length > limit) runtime.history.splice(0, runtime.history.length - limit);
  }

  /** Keeps the run until it settles, so stop() can wait for it. */
  track<T>(run: Promise<T>): Promise<T> {
    this.runs.add(run);
    const done = (): void => void this.runs.delete(run);
    run.then(done, done);
    return run;
  }
}
