/**
 * The reconciliation controller of one host: it keeps the etcd cache, runs a
 * port machine per port and a NIC machine per spp_vf, and provides them the
 * actors that do the I/O. It is fed list-watch events and knows nothing of
 * where they come from, so the daemon (etcd3 + HTTP spp-ctl) and the replay
 * tool (snapshots + in-process emulator) share it.
 */
import { Actor, ActorOptions, AnyActorLogic, createActor } from 'xstate';
import { Subject } from 'rxjs';
import { DEFAULT_PORT_TIMERS, PlugInput, PortTimers, ReportInput, RunOutput, UnplugInput, portMachine } from '../../machines/port';
import { NicRunOutput, nicMachine } from '../../machines/nic';
import { NicRebuildError, PermanentError } from '../../machines/errors';
import { stateName } from '../../machines/state-name';
import type { ListWatchEvent } from '../etcd/listwatch';
import type { Logger } from '../log';
import { keys, parseKey } from '../protocol/keys';
import type { NicLayout } from '../protocol/layout';
import { VhostObserved, observeVhost } from '../plan/observed';
import { FreeVhost, VhostDesired, foreignComponents, freeVhost, planLayout, planVhost } from '../plan/planner';
import type { SppCommand } from '../sppctl/commands';
import type { VfStatus } from '../sppctl/wire';
import type { StoredValue } from '../etcd/events';
import { HostStore } from './host-state';
import type { PortIntent } from '../plan/desired';
import { HostFacts, intentOf, resolveConflicts } from './intent';
import { EtcdWriter, SppCtlApi, isRejected, sppCtlFailure } from './ports';
import { lazySignalPromise } from './promise-actor';
import { AgentStopping, SppCtlGate } from './sppctl-gate';
import { AgentObserver, NO_OBSERVER } from './observer';
import { VfWorker } from './vf-worker';

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
  /** Every spp-ctl command just before it is sent, with its spp_vf text form (describeCommand). */
  readonly onCommand?: (cmd: SppCommand, text: string) => void;
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

export interface HistoryEntry {
  readonly at: number;
  readonly revision: number;
  readonly what: string;
  readonly state: string;
  readonly commands?: readonly string[];
  readonly error?: string;
}

export interface PortView {
  readonly portId: string;
  readonly state: string;
  readonly intent: PortIntent;
  readonly observed?: VhostObserved;
  readonly lastError?: string;
  readonly revision: number;
  readonly history: readonly HistoryEntry[];
}

export interface NicView {
  readonly secId: number;
  readonly layout: NicLayout;
  readonly state: string;
  readonly lastError?: string;
  readonly status?: VfStatus;
}

export interface VhostClaim {
  readonly vhostId: number;
  readonly phys: string;
  /** The port id the vhost key names; undefined when free; `error` when the value is not valid. */
  readonly owner?: string;
  readonly error?: string;
}

export interface ControllerView {
  readonly host: string;
  /** The vhost keys: who claims each vhost. */
  readonly vhosts: readonly VhostClaim[];
  readonly revision: number;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly configurationErrors: readonly string[];
  readonly nics: readonly NicView[];
  readonly ports: readonly PortView[];
  /** The agent runs with --unplug-resets-vlan (a free vhost's tags are reset, not left). */
  readonly unplugResetsVlan?: boolean;
}

/** One step of a replay (or a snapshot of a live agent): what the visualizer's slider shows. */
export interface ViewFrame {
  readonly revision: number;
  /** What happened at this step, e.g. `put /spp/openstack/action/spp4/P = plug`. */
  readonly label: string;
  readonly view: ControllerView;
}

/** What a port machine's actors and actions call: the controller, for one port. */
interface PortHooks {
  plug(input: PlugInput): Promise<RunOutput>;
  unplug(input: UnplugInput): Promise<RunOutput>;
  reportError(input: ReportInput): Promise<void>;
  reassertUp(portId: string): void;
}

/** What a NIC machine's actors and actions call: the controller, for one spp_vf. */
interface NicHooks {
  waitForVf(): Promise<void>;
  build(): Promise<NicRunOutput>;
  announceReady(): void;
  announceNotReady(reason: string): void;
}

// machine.provide() builds a new machine (xstate re-parses and re-indexes the
// whole config): once per port and NIC it was the replay's largest cost. The
// machines are provided once; their implementations find the controller
// through the actor system of the root actor they run in (one per port/NIC).
const hooksOf = new WeakMap<object, PortHooks | NicHooks>();
function hooks<H extends PortHooks | NicHooks>(system: object): H {
  const h = hooksOf.get(system);
  if (!h) throw new Error('machine started outside a Controller');
  return h as H;
}

const providedPortMachine = portMachine.provide({
  actors: {
    plug: lazySignalPromise<RunOutput, PlugInput>(async ({ input, system }) => hooks<PortHooks>(system).plug(input)),
    unplug: lazySignalPromise<RunOutput, UnplugInput>(async ({ input, system }) => hooks<PortHooks>(system).unplug(input)),
    reportError: lazySignalPromise<void, ReportInput>(async ({ input, system }) => hooks<PortHooks>(system).reportError(input)),
  },
  actions: {
    reassertUp: ({ system }, params) => hooks<PortHooks>(system).reassertUp(params.portId),
  },
});

const providedNicMachine = nicMachine.provide({
  actors: {
    waitForVf: lazySignalPromise(async ({ system }) => hooks<NicHooks>(system).waitForVf()),
    build: lazySignalPromise<NicRunOutput, { secId: number }>(async ({ system }) => hooks<NicHooks>(system).build()),
  },
  actions: {
    announceReady: ({ system }) => hooks<NicHooks>(system).announceReady(),
    announceNotReady: ({ system }, params) => hooks<NicHooks>(system).announceNotReady(params.reason),
  },
});

type PortActor = Actor<typeof providedPortMachine>;
type NicActor = Actor<typeof providedNicMachine>;

interface PortRuntime {
  readonly portId: string;
  readonly actor: PortActor;
  lastIntentJson: string;
  /** The intent object last delivered: the same object needs no JSON comparison. */
  lastIntent: PortIntent;
  readonly history: HistoryEntry[];
  /**
   * The run that just ended logged its outcome (`port is up`, `port
   * unplugged`): the transition it causes says the same, so it goes to debug.
   */
  outcomeLogged: 'up' | 'unplugged' | undefined;
}

/** What intentOf reads of a port: not port_status, whose puts (the agent's own, echoed by the watch) need no new intent. */
interface MemoIntent {
  readonly bindPort: StoredValue | undefined;
  readonly action: StoredValue | undefined;
  readonly vhosts: HostFacts['vhosts'];
  readonly layout: HostFacts['layout'];
  readonly intent: PortIntent;
}

interface NicRuntime {
  readonly layout: NicLayout;
  readonly worker: VfWorker;
  readonly actor: NicActor;
  /** Set by a build that found the vf different from the cached view: ports must re-plan. */
  changed: boolean;
}

export class Controller {
  readonly store: HostStore;
  /** A notice whenever something visible changed (for the visualizer's live updates). */
  readonly changes = new Subject<{ readonly portId?: string; readonly secId?: number }>();
  private active: { raw: string; layout: readonly NicLayout[] } | undefined;
  private readonly nics = new Map<number, NicRuntime>();
  private readonly ports = new Map<string, PortRuntime>();
  /** Ports whose `up` this process has put since it started. */
  private readonly announced = new Set<string>();
  /** vhost id -> port that wants it plugged, as of the last sync. */
  private wanted = new Map<number, string>();
  private lastConfigNote = '';
  /**
   * Each port's intent with what it was derived from: intentOf is pure, and
   * a store value is replaced (not mutated) by a put, so the same inputs by
   * identity give the same intent without decoding bind_port again.
   */
  private intentMemo = new Map<string, MemoIntent>();
  private syncScheduled = false;
  /** idle() callers waiting for the machines to settle (woken by state changes, not by polling). */
  private idleWaiters: Array<() => void> = [];
  private idleCheckQueued = false;
  private stopping = false;
  /** Every spp-ctl request goes through it: closed by stop(). */
  private readonly sppctl: SppCtlGate;
  /** Port runs (plug, unplug, error report) not finished yet: stop() lets them write what they learned. */
  private readonly runs = new Set<Promise<unknown>>();
  private readonly log: Logger;
  private readonly now: () => number;
  /** What a vhost no port wants should carry. */
  private readonly free: FreeVhost;
  private readonly observer: AgentObserver;

  constructor(private readonly opts: ControllerOptions) {
    this.store = new HostStore(opts.host);
    this.sppctl = new SppCtlGate(opts.sppctl);
    this.free = freeVhost(opts.unplugResetsVlan === true);
    this.log = opts.logger.child({ host: opts.host });
    this.now = opts.now ?? Date.now;
    this.observer = opts.observer ?? NO_OBSERVER;
  }

  /** Feeds one list-watch event. */
  handle(ev: ListWatchEvent): void {
    if (this.stopping) return;
    switch (ev.type) {
      case 'connection':
        this.log.log(ev.connected ? 'info' : 'warn', ev.connected ? 'etcd connected' : 'etcd connection lost', { reason: ev.reason });
        return;
      case 'reset':
        this.store.reset(ev.entries, ev.revision);
        this.log.info('listed host keys', { revision: ev.revision, keys: [...this.store.entries()].length, reason: ev.reason });
        this.scheduleSync();
        return;
      case 'put':
      case 'delete':
        if (!this.store.apply(ev)) return;
        // built only when it is written: one per event, the agent's own port_status puts included
        if (this.log.isLevelEnabled('debug')) this.log.debug('etcd event', { revision: ev.revision, key: ev.key, event: ev.type, ...portFields(ev.key) });
        this.scheduleSync();
        return;
    }
  }

  /**
   * The events of one etcd revision (a transaction: bind_port, action and
   * port_status deleted together) arrive in one burst: derive once, after
   * all of them, so a port never sees a half-applied transaction.
   */
  private scheduleSync(): void {
    if (this.syncScheduled) return;
    this.syncScheduled = true;
    queueMicrotask(() => {
      this.syncScheduled = false;
      if (!this.stopping) this.sync();
      this.maybeIdle();
    });
  }

  /** Re-derives everything from the store (level-triggered). */
  private sync(): void {
    this.syncConfiguration();
    this.syncPorts();
  }

  private syncConfiguration(): void {
    const view = this.store.configuration();
    const key = keys.configuration(this.opts.host);
    const note = view.state === 'valid' ? `valid:${view.raw}` : view.state === 'invalid' ? `invalid:${view.errors.join('|')}` : 'missing';
    if (note === this.lastConfigNote) return;
    this.lastConfigNote = note;
    if (view.state === 'missing') {
      if (this.active) this.log.warn('configuration deleted; keeping the running layout until it returns', { key });
      else this.log.info('waiting for the host configuration', { key });
      return;
    }
    if (view.state === 'invalid') {
      for (const error of view.errors) this.log.error('invalid host configuration', { key, error, keeping: this.active ? 'running layout' : 'nothing' });
      return;
    }
    for (const warning of view.warnings) this.log.warn('host configuration', { key, warning });
    if (this.active?.raw === view.raw) return;
    if (this.active) this.log.info('host configuration changed: rebuilding NICs', { key });
    this.active = { raw: view.raw, layout: view.layout };
    this.startNics(view.layout);
    this.changes.next({});
  }

  private startNics(layout: readonly NicLayout[]): void {
    for (const nic of this.nics.values()) nic.actor.stop();
    this.nics.clear();
    for (const nicLayout of layout) {
      const worker = new VfWorker(nicLayout.secId, this.sppctl, (cmd, text) => {
        this.log.info('spp-ctl command', { secId: cmd.secId, command: text });
        this.opts.onCommand?.(cmd, text);
      });
      const runtime: NicRuntime = { layout: nicLayout, worker, actor: undefined as unknown as NicActor, changed: false };
      const actor = createActor(providedNicMachine, {
        input: {
          secId: nicLayout.secId,
          resyncIntervalMs: this.opts.resyncIntervalMs ?? 30_000,
          ...(this.opts.nicBackoff ? { backoffBaseMs: this.opts.nicBackoff.baseMs, backoffMaxMs: this.opts.nicBackoff.maxMs } : {}),
        },
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      });
      hooksOf.set(actor.system, {
        waitForVf: async () => this.waitForVf(nicLayout),
        build: async () => this.buildNic(runtime),
        announceReady: () => {
          worker.setReady(true);
          this.nicStateToPorts(nicLayout.secId, true, runtime.changed);
          runtime.changed = false;
        },
        announceNotReady: (reason) => {
          worker.setReady(false, reason);
          this.nicStateToPorts(nicLayout.secId, false, false);
        },
      } satisfies NicHooks);
      (runtime as { actor: NicActor }).actor = actor;
      let last = '';
      let resyncing = false;
      actor.subscribe((snap) => {
        const state = stateName(snap.value);
        if (state === last) return;
        const from = last;
        last = state;
        const fields = { secId: nicLayout.secId, nic: nicLayout.nic.pci_address, state, lastError: snap.context.lastError };
        // the periodic resync (ready -> building -> ready, nothing sent) is routine
        if (state === 'building') resyncing = from === 'ready';
        const routine = resyncing && (state === 'building' || (state === 'ready' && snap.context.lastCommands.length === 0));
        this.opts.onNicState?.(nicLayout.secId, state, snap.context.lastError);
        if (state === 'retryWait') this.log.warn('spp_vf not usable yet', fields);
        else this.log.log(routine ? 'debug' : 'info', 'nic state', { ...fields, commands: snap.context.lastCommands.length });
        this.changes.next({ secId: nicLayout.secId });
        this.maybeIdle();
      });
      this.nics.set(nicLayout.secId, runtime);
      // a new layout: the ports on this spp_vf wait until it is built again
      this.nicStateToPorts(nicLayout.secId, false, false);
      actor.start();
    }
  }

  private async waitForVf(nic: NicLayout): Promise<void> {
    const processes = await this.sppctl.processes();
    const found = processes.some((p) => p.type === 'vf' && 'client-id' in p && p['client-id'] === nic.secId);
    if (!found) {
      const listed = processes.map((p) => ('client-id' in p ? `${p.type}:${p['client-id']}` : p.type)).join(', ') || 'nothing';
      throw new Error(`spp_vf ${nic.secId} (NIC ${nic.nic.pci_address}) is not connected to spp-ctl; GET /v1/processes lists ${listed}`);
    }
  }

  /** Reads the vf, starts/attaches what the layout lacks, and clears vhosts no port wants. */
  private async buildNic(runtime: NicRuntime): Promise<{ commands: string[] }> {
    const { layout, worker } = runtime;
    return worker.exclusive(async () => {
      // Compared with the last status known, not the cache: a failed command
      // drops the cache, and treating that as "spp_vf changed" would send every
      // port in backoff straight back to a plan that fails again (a storm).
      const before = worker.lastKnown;
      const status = await worker.refresh().catch((err) => {
        throw new Error(explainStatusFailure(layout.secId, err));
      });
      // What ports care about is their vhost's entry and VLAN settings; the
      // cached copy may differ from spp_vf's own in order alone.
      runtime.changed = before === undefined || layout.vhostIds.some((v) => JSON.stringify(observeVhost(before, v)) !== JSON.stringify(observeVhost(status, v)));
      const foreign = foreignComponents(layout, status);
      if (foreign.length > 0) this.log.warn('spp_vf runs components that are not in the layout; leaving them alone', { secId: layout.secId, components: foreign });
      const plan = planLayout(layout, status, this.desiredOn(layout));
      const done = await worker.execute(plan);
      if (plan.length > 0) {
        runtime.changed = true;
        // spp_vf keeps the classifier entry of a detached port hidden and shows
        // it again once the port is re-attached, which the cached status cannot
        // predict (an unplug cut short between detach and delete): read it.
        await worker.refresh();
      }
      for (const v of layout.vhostIds) {
        if (this.referenced(v)) continue;
        const clear = planVhost(layout, v, this.free, await worker.currentStatus());
        if (clear.length === 0) continue;
        this.log.info('clearing a vhost no port wants', { secId: layout.secId, vhost: v });
        try {
          done.commands.push(...(await worker.execute(clear)).commands);
        } catch (err) {
          this.log.error('could not clear vhost', { secId: layout.secId, vhost: v, error: sppCtlFailure(err).message });
        }
      }
      return done;
    });
  }

  private desiredOn(nic: NicLayout): Map<number, VhostDesired> {
    const out = new Map<number, VhostDesired>();
    for (const p of this.ports.values()) {
      const intent = p.actor.getSnapshot().context.intent;
      if (intent.kind === 'plug' && intent.place.secId === nic.secId) out.set(intent.place.vhostId, intent.rule);
    }
    return out;
  }

  /** True when some port wants the vhost plugged or is unplugging it. */
  private referenced(vhostId: number): boolean {
    for (const p of this.ports.values()) {
      const intent = p.actor.getSnapshot().context.intent;
      if ((intent.kind === 'plug' || intent.kind === 'unplug') && intent.place?.vhostId === vhostId) return true;
    }
    return false;
  }

  /**
   * Tells the ports on this NIC that it became usable or not. A NIC rebuilt
   * with changes also sends RESYNC to the ports that were running, not to
   * those that waited for it: their first run is still to come.
   */
  private nicStateToPorts(secId: number, ready: boolean, changed: boolean): void {
    for (const p of this.ports.values()) {
      const snap = p.actor.getSnapshot();
      if (secIdOf(snap.context.intent) !== secId) continue;
      const waiting = snap.value === 'waitingForNic';
      p.actor.send({ type: 'NIC_STATE', ready });
      if (ready && changed && !waiting) p.actor.send({ type: 'RESYNC' });
    }
  }

  /** Whether the spp_vf of the intent's vhost is usable (true when the intent needs none). */
  private nicReadyFor(intent: PortIntent): boolean {
    const secId = secIdOf(intent);
    return secId === undefined || this.nics.get(secId)?.worker.ready === true;
  }

  private syncPorts(): void {
    if (!this.active) return;
    const facts: HostFacts = { host: this.opts.host, layout: this.active.layout, vhosts: this.store.vhosts() };
    const ids = new Set([...this.store.portIds(), ...this.ports.keys()]);
    const raw = new Map<string, PortIntent>();
    const memo = new Map<string, MemoIntent>();
    for (const id of ids) {
      const keys = this.store.portKeys(id);
      const last = this.intentMemo.get(id);
      const same =
        last !== undefined &&
        last.bindPort === keys.bindPort &&
        last.action === keys.action &&
        last.vhosts === facts.vhosts &&
        last.layout === facts.layout;
      const intent = same ? last.intent : intentOf(keys, facts);
      memo.set(id, same ? last : { bindPort: keys.bindPort, action: keys.action, vhosts: facts.vhosts, layout: facts.layout, intent });
      raw.set(id, intent);
    }
    this.intentMemo = memo;
    const intents = resolveConflicts(raw, facts);
    const wanted = new Map<number, string>();
    for (const [id, intent] of intents) {
      if (intent.kind === 'plug') wanted.set(intent.place.vhostId, id);
      this.deliver(id, intent);
    }
    for (const [vhostId, portId] of this.wanted) {
      if (!wanted.has(vhostId) && !this.referenced(vhostId)) this.clearVhost(vhostId, portId);
    }
    this.wanted = wanted;
  }

  private deliver(portId: string, intent: PortIntent): void {
    const runtime = this.ports.get(portId);
    const revision = this.store.revision;
    if (!runtime) {
      if (intent.kind === 'idle') return;
      this.startPort(portId, intent, revision);
      return;
    }
    if (runtime.lastIntent === intent) {
      this.forgetIfGone(portId);
      return;
    }
    runtime.lastIntent = intent;
    const json = JSON.stringify(intent);
    if (runtime.lastIntentJson !== json) {
      runtime.lastIntentJson = json;
      this.note(runtime, revision, `desired: ${describeIntent(intent)}`);
      this.observer.portDesired(portId, intent, revision);
      runtime.actor.send({ type: 'DESIRED', intent, revision, nicReady: this.nicReadyFor(intent) });
    }
    this.forgetIfGone(portId);
  }

  /** Drops the machine of a port whose keys are all gone once it has nothing left to do. */
  private forgetIfGone(portId: string): void {
    const runtime = this.ports.get(portId);
    if (!runtime || this.hasKeys(portId)) return;
    const state = stateName(runtime.actor.getSnapshot().value);
    if (state === 'idle' || state === 'removed' || state.startsWith('failed')) {
      runtime.actor.stop();
      this.ports.delete(portId);
      this.announced.delete(portId);
      this.observer.portForgotten(portId);
      this.changes.next({ portId });
    }
  }

  private hasKeys(portId: string): boolean {
    return this.store.hasPortKeys(portId);
  }

  /** A vhost that a port wanted and no port wants any more (keys deleted, input became invalid). */
  private clearVhost(vhostId: number, formerPort: string): void {
    const nic = this.active?.layout.find((n) => n.vhostIds.includes(vhostId));
    const runtime = nic && this.nics.get(nic.secId);
    if (!nic || !runtime?.worker.ready) return; // the next build clears it
    void runtime.worker
      .exclusive(async () => runtime.worker.execute(planVhost(nic, vhostId, this.free, await runtime.worker.currentStatus())))
      .then(
        (done) => done.commands.length > 0 && this.log.info('cleared vhost of a port that no longer wants it', { port: formerPort, vhost: vhostId }),
        (err) => this.log.error('could not clear vhost', { port: formerPort, vhost: vhostId, error: sppCtlFailure(err).message }),
      );
  }

  private startPort(portId: string, intent: PortIntent, revision: number): void {
    const history: HistoryEntry[] = [];
    const actor = createActor(providedPortMachine, {
      input: { host: this.opts.host, portId, intent, revision, timers: this.opts.portTimers ?? DEFAULT_PORT_TIMERS, nicReady: this.nicReadyFor(intent) },
      ...(this.opts.clock ? { clock: this.opts.clock } : {}),
    });
    hooksOf.set(actor.system, {
      plug: async (input) => this.track(this.plug(input)),
      unplug: async (input) => this.track(this.unplug(input)),
      reportError: async (input) => this.track(this.reportError(input)),
      reassertUp: (id) => this.reassertUp(id),
    } satisfies PortHooks);
    const runtime: PortRuntime = { portId, actor, lastIntentJson: JSON.stringify(intent), lastIntent: intent, history, outcomeLogged: undefined };
    this.ports.set(portId, runtime);
    this.note(runtime, revision, `desired: ${describeIntent(intent)}`);
    this.observer.portDesired(portId, intent, revision);
    let last = '';
    let lastBackoffError: string | undefined;
    actor.subscribe({
      next: (snap) => {
        const state = stateName(snap.value);
        if (state === last) return;
        const from = last;
        last = state;
        const ctx = snap.context;
        this.note(runtime, ctx.revision, `${from || 'start'} -> ${state}`, ctx.lastError);
        this.observer.portState(portId, state, from);
        // A retry loop shows as backoff -> evaluating -> plugging -> backoff:
        // log the loop once per distinct error, the rest at debug.
        const repeated = state === 'backoff' && ctx.lastError === lastBackoffError;
        if (state === 'backoff') lastBackoffError = ctx.lastError;
        else if (state !== 'evaluating' && state !== 'plugging' && state !== 'unplugging') lastBackoffError = undefined;
        // plugging -> plugged after `port is up`, unplugging -> removed (or
        // idle, the keys being gone already) after `port unplugged`, and
        // removed -> idle: the line before already said it
        const outcome = runtime.outcomeLogged;
        runtime.outcomeLogged = undefined;
        const said = outcome === 'up' ? state.startsWith('plugged') : outcome === 'unplugged' && (state === 'removed' || state === 'idle');
        const quiet =
          this.stopping ||
          repeated ||
          said ||
          state === 'evaluating' ||
          (state === 'idle' && from === 'removed') ||
          (lastBackoffError !== undefined && (state === 'plugging' || state === 'unplugging'));
        const level = quiet ? 'debug' : state.startsWith('failed') ? 'error' : state === 'backoff' ? 'warn' : 'info';
        this.log.log(level, 'port state', {
          port: portId,
          vhost: vhostOf(ctx.intent),
          revision: ctx.revision,
          state,
          from: from || undefined,
          ...(ctx.lastError && (state === 'backoff' || state.startsWith('failed')) ? { error: ctx.lastError } : {}),
        });
        this.changes.next({ portId });
        // a port whose keys are all gone is forgotten once its machine is at rest
        if (state === 'idle' || state === 'removed') this.scheduleSync();
        this.maybeIdle();
      },
      error: (err) => this.log.error('port machine crashed', { port: portId, error: String(err) }),
    });
    actor.start();
  }

  private track<T>(run: Promise<T>): Promise<T> {
    this.runs.add(run);
    const done = (): void => void this.runs.delete(run);
    run.then(done, done);
    return run;
  }

  private note(runtime: PortRuntime, revision: number, what: string, error?: string, commands?: readonly string[]): void {
    const state = stateName(runtime.actor.getSnapshot().value);
    const entry: HistoryEntry = { at: this.now(), revision, what, state, ...(error ? { error } : {}), ...(commands ? { commands } : {}) };
    runtime.history.push(entry);
    this.opts.onHistory?.(runtime.portId, entry);
    const limit = this.opts.historyLimit ?? 100;
    if (runtime.history.length > limit) runtime.history.splice(0, runtime.history.length - limit);
  }

  private nicFor(secId: number): NicRuntime {
    const nic = this.nics.get(secId);
    if (!nic) throw new Error(`no NIC with spp_vf id ${secId} in the configuration`);
    return nic;
  }

  /**
   * Applies the plan for one vhost; on a rejection re-reads the vf and tries
   * the repaired plan once. A re-read that shows the vf without the NIC's
   * layout (spp_vf or spp-ctl restarted) hands the NIC back to building: the
   * port waits for it (NicRebuildError), and no port error is reported.
   */
  private async applyVhost(nic: NicRuntime, vhostId: number, desired: VhostDesired, portId: string): Promise<{ commands: string[]; observed: VhostObserved }> {
    const { worker, layout } = nic;
    // the port machine waits for its NIC; this is a NIC that stopped being usable since
    if (!worker.ready) throw new Error(`spp_vf ${layout.secId} is not ready: ${worker.notReadyReason ?? 'unknown'}`);
    const size = (): number | undefined => {
      const status = worker.status;
      return status && planVhost(layout, vhostId, desired, status).length;
    };
    return worker.planned(size, async () => {
      const commands: string[] = [];
      for (let attempt = 1; ; attempt++) {
        const plan = planVhost(layout, vhostId, desired, await worker.currentStatus());
        try {
          commands.push(...(await worker.execute(plan)).commands);
          return { commands, observed: observeVhost(await worker.currentStatus(), vhostId) };
        } catch (err) {
          commands.push(...((err as { executed?: string[] }).executed ?? []));
          if (err instanceof AgentStopping) throw err;
          const failure = sppCtlFailure(err);
          if (!isRejected(err)) {
            nic.actor.send({ type: 'RESYNC_NEEDED', reason: failure.message });
            throw err;
          }
          const missing = planLayout(layout, await worker.refresh()).length;
          if (missing > 0) {
            const reason = `spp-ctl rejected a command for vhost ${vhostId} (${failure.message}) and spp_vf ${layout.secId} lacks ${missing} component(s)/port(s) of its layout (restarted?): rebuilding the NIC`;
            this.log.warn('spp_vf lost its layout; rebuilding the NIC before the port', { port: portId, vhost: vhostId, secId: layout.secId, error: failure.message, missing });
            nic.actor.send({ type: 'RESYNC_NEEDED', reason });
            throw new NicRebuildError(reason);
          }
          if (attempt >= 2) {
            throw new PermanentError(`spp-ctl rejected the plan for vhost ${vhostId} even after re-reading the vf status: ${failure.message}`);
          }
          this.log.warn('spp-ctl rejected a command; re-reading the vf status to plan a repair', { port: portId, vhost: vhostId, error: failure.message });
        }
      }
    });
  }

  private async plug(input: PlugInput): Promise<RunOutput> {
    const { place, rule } = input.intent;
    const nic = this.nicFor(place.secId);
    const { commands, observed } = await this.applyVhost(nic, place.vhostId, rule, input.portId);
    this.recordRun(input.portId, commands);
    const status = this.store.get(keys.portStatus(input.host, input.portId))?.value;
    if (commands.length > 0 || status !== 'up' || !this.announced.has(input.portId)) {
      const written = await this.opts.etcd.putPortStatus({ host: input.host, portId: input.portId, value: 'up', whileAction: 'plug' });
      if (written) this.announced.add(input.portId);
      this.markOutcomeLogged(input.portId, 'up');
      this.log.info(written ? 'port is up' : 'action is no longer plug; port_status not written', {
        port: input.portId,
        vhost: place.vhostId,
        revision: input.revision,
        mac: rule.mac,
        ...(rule.vlan !== undefined ? { vlan: rule.vlan } : {}),
        commands: commands.length,
      });
    }
    return { observed, commands };
  }

  private async unplug(input: UnplugInput): Promise<RunOutput> {
    const { place, rule } = input.intent;
    let out: RunOutput = { commands: [] };
    if (place && rule && !this.isWantedByOther(place.vhostId, input.portId)) {
      const nic = this.nicFor(place.secId);
      try {
        out = await this.applyVhost(nic, place.vhostId, this.free, input.portId);
      } catch (err) {
        if (!(err instanceof PermanentError)) throw err;
        // The driver waits for the keys to go; a vhost spp_vf will not clear
        // is logged and left for the next resync, not held against the port.
        this.log.error('could not clear the vhost in spp_vf; removing the port keys anyway', { port: input.portId, vhost: place.vhostId, error: err.message });
      }
      this.recordRun(input.portId, out.commands);
    }
    const cleaned = await this.opts.etcd.cleanupPort(input.host, input.portId, place?.vhostKey);
    this.announced.delete(input.portId);
    this.markOutcomeLogged(input.portId, 'unplugged');
    if (cleaned) this.log.info('port unplugged', { port: input.portId, vhost: place?.vhostId, revision: input.revision, commands: out.commands.length });
    else this.log.info('action changed during unplug; keys left for the new action', { port: input.portId, vhost: place?.vhostId, revision: input.revision });
    return out;
  }

  private markOutcomeLogged(portId: string, outcome: 'up' | 'unplugged'): void {
    const runtime = this.ports.get(portId);
    if (runtime) runtime.outcomeLogged = outcome;
  }

  private isWantedByOther(vhostId: number, portId: string): boolean {
    const other = this.wanted.get(vhostId);
    return other !== undefined && other !== portId;
  }

  private async reportError(input: ReportInput): Promise<void> {
    const reason = input.reason.length > 400 ? `${input.reason.slice(0, 400)}...` : input.reason;
    const written = await this.opts.etcd.putPortStatus({ host: input.host, portId: input.portId, value: `error: ${reason}`, whileAction: 'any' });
    this.log.error('port failed', { port: input.portId, error: reason, reported: written ? 'port_status' : 'not written: no action key' });
  }

  private reassertUp(portId: string): void {
    if (this.stopping) return;
    this.opts.etcd
      .putPortStatus({ host: this.opts.host, portId, value: 'up', whileAction: 'plug' })
      .then((written) => this.log.debug('re-put port_status up', { port: portId, written }))
      .catch((err) => this.log.debug('re-put port_status up failed', { port: portId, error: String(err) }));
  }

  private recordRun(portId: string, commands: readonly string[]): void {
    const runtime = this.ports.get(portId);
    if (runtime && commands.length > 0) this.note(runtime, this.store.revision, 'spp-ctl commands', undefined, commands);
  }

  view(): ControllerView {
    const config = this.store.configuration();
    return {
      host: this.opts.host,
      vhosts: [...this.store.vhosts().entries()]
        .sort(([a], [b]) => a - b)
        .map(([vhostId, v]) => ({
          vhostId,
          phys: v.phys,
          ...(v.owner.ok ? (v.owner.value.free ? {} : { owner: v.owner.value.portId }) : { error: v.owner.error }),
        })),
      revision: this.store.revision,
      configuration: config.state,
      configurationErrors: config.state === 'invalid' ? config.errors : [],
      nics: [...this.nics.values()].map((n) => {
        const snap = n.actor.getSnapshot();
        return {
          secId: n.layout.secId,
          layout: n.layout,
          state: stateName(snap.value),
          ...(snap.context.lastError ? { lastError: snap.context.lastError } : {}),
          ...(n.worker.status ? { status: n.worker.status } : {}),
        };
      }),
      ...(this.opts.unplugResetsVlan ? { unplugResetsVlan: true } : {}),
      ports: [...this.ports.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([portId, p]) => {
          const snap = p.actor.getSnapshot();
          const ctx = snap.context;
          return {
            portId,
            state: stateName(snap.value),
            intent: ctx.intent,
            ...(ctx.observed ? { observed: ctx.observed } : {}),
            ...(ctx.lastError ? { lastError: ctx.lastError } : {}),
            revision: ctx.revision,
            history: [...p.history],
          };
        }),
    };
  }

  private busy(): boolean {
    if (this.syncScheduled) return true;
    for (const p of this.ports.values()) if (BUSY_PORT.test(stateName(p.actor.getSnapshot().value))) return true;
    for (const n of this.nics.values()) if (BUSY_NIC.test(stateName(n.actor.getSnapshot().value))) return true;
    return false;
  }

  /**
   * Called on every machine state change and after every sync: when idle()
   * waits and nothing looks busy, checks again once the microtasks queued
   * meanwhile have run (a state that is at rest for an instant, between a
   * transition and the work it queued, does not count as settled).
   */
  private maybeIdle(): void {
    if (this.idleWaiters.length === 0 || this.idleCheckQueued || this.busy()) return;
    this.idleCheckQueued = true;
    setImmediate(() => {
      this.idleCheckQueued = false;
      if (this.busy()) return;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    });
  }

  /** Resolves once no port is plugging/unplugging and every NIC is ready or retrying. */
  async idle(timeoutMs = 10_000): Promise<void> {
    if (!this.busy()) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
        reject(new Error('controller still busy'));
      }, timeoutMs);
      this.idleWaiters.push(waiter);
      this.maybeIdle();
    });
  }

  /**
   * Stops taking work: from now on no spp-ctl request is sent. Waits for the
   * requests in flight (their answer, or the client's timeout), then lets the
   * port runs write what they learned (bounded: etcd may be gone), then stops
   * every machine. The caller releases the host lock after this.
   */
  async stop(graceMs = 1000, inFlightMaxMs = Infinity): Promise<void> {
    this.stopping = true;
    const inFlight = await bounded(this.sppctl.close(), inFlightMaxMs);
    this.log.info('stopping: no more spp-ctl requests', { inFlightEnded: inFlight ?? 'not all (gave up waiting)' });
    await bounded(Promise.allSettled([...this.runs]), graceMs);
    for (const p of this.ports.values()) p.actor.stop();
    for (const n of this.nics.values()) n.actor.send({ type: 'STOP' });
    for (const n of this.nics.values()) n.actor.stop();
    this.changes.complete();
  }
}

/** `p`, or undefined after `ms` (Infinity: no limit). */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms === Infinity) return p;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms);
    })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The spp_vf a port's intent needs, if any. */
function secIdOf(intent: PortIntent): number | undefined {
  return intent.kind === 'plug' || intent.kind === 'unplug' ? intent.place?.secId : undefined;
}

const BUSY_PORT = /^(evaluating|plugging|unplugging|failed\.reporting$)/;
const BUSY_NIC = /^(waitingForVf|building)$/;

function vhostOf(intent: PortIntent): number | undefined {
  return intent.kind === 'plug' || intent.kind === 'unplug' ? intent.place?.vhostId : undefined;
}

export function describeIntent(intent: PortIntent): string {
  switch (intent.kind) {
    case 'idle':
      return `idle (${intent.note})`;
    case 'plug':
      return `plug vhost ${intent.place.vhostId} mac ${intent.rule.mac}${intent.rule.vlan !== undefined ? ` vlan ${intent.rule.vlan}` : ''}`;
    case 'unplug':
      return intent.place ? `unplug vhost ${intent.place.vhostId}` : 'unplug (no usable bind_port: keys only)';
    case 'invalid':
      return `invalid: ${intent.reason}`;
  }
}

function portFields(key: string): Record<string, unknown> {
  const p = parseKey(key);
  if (!p) return {};
  if (p.kind === 'vhost') return { vhost: p.vhostId };
  if (p.kind === 'bind_port' || p.kind === 'action' || p.kind === 'port_status') return { port: p.portId };
  return {};
}

/** What a failed status read most likely means, with what to do. */
export function explainStatusFailure(secId: number, err: unknown): string {
  const f = sppCtlFailure(err);
  if (f.status === 500) {
    return (
      `GET /v1/vfs/${secId} answered 500: the real spp-ctl cannot return a vf status of 4096 bytes or more ` +
      `(about 6 vhosts on one NIC); configure at most 5 vhosts per NIC (spp config build warns), or fix spp-ctl's recv buffer. (${f.message})`
    );
  }
  if (f.status === 404) return `spp-ctl does not know spp_vf ${secId} (${f.message}); is the spp_vf process for this NIC running?`;
  return `cannot read the status of spp_vf ${secId}: ${f.message}`;
}
