/**
 * Level-triggered sync of one host: after every burst of etcd events, the
 * configuration (a new one starts the NIC machines again) and every port's
 * intent are derived from the store, and each port machine is given its
 * intent when it changed. Port machines are started and forgotten here.
 */
import { createActor, fromPromise } from 'xstate';
import { DEFAULT_PORT_TIMERS, type PlugInput, portMachine, type ReportInput, type RunOutput, type UnplugInput } from '../../machines/port';
import { stateName } from '../../machines/state-name';
import type { PortTag } from '../../machines/tags';
import { type PortIntent, vhostOf } from '../plan/desired';
import { keys } from '../protocol/keys';
import type { Coordinator } from './coordinator';
import type { HostRuntime, PortRuntime } from './host-runtime';
import type { ConfigurationView } from './host-state';
import type { IdleWatch } from './idle';
import type { HostFacts } from './intent';
import type { NicLifecycle } from './nic-lifecycle';
import type { PortEffects, PortOutcome } from './port-effects';
import { portKind } from './port-kind';
import { portStateLogLevel } from './port-log-policy';

/** The PortSync that started the machine, from the owner its actors and actions are given. */
function syncOf(input: { readonly owner: unknown }): PortSync {
  if (input.owner instanceof PortSync) return input.owner;
  throw new Error('port machine: started without its host (input.owner is not a PortSync)');
}

/**
 * The port machine with the agent's actors, provided once per process: a
 * provided machine is a new machine (its configuration parsed again, its
 * transition caches cold), which a replay of thousands of hosts would pay
 * per host (docs/performance.md, tenth round). Each actor reaches its host
 * through the owner in its input, not through a registry.
 */
const providedPortMachine = portMachine.provide({
  actors: {
    plug: fromPromise<RunOutput, PlugInput>(async ({ input }) => syncOf(input).run((e) => e.plug(input))),
    unplug: fromPromise<RunOutput, UnplugInput>(async ({ input }) => syncOf(input).run((e) => e.unplug(input))),
    reportError: fromPromise<void, ReportInput>(async ({ input }) => syncOf(input).track((e) => e.reportError(input))),
  },
  actions: {
    reassertUp: (_, params) => syncOf(params).effects.reassertUp(params.portId),
  },
});

export class PortSync {
  /** A sync is queued for the end of the current burst of events. */
  scheduled = false;
  private lastConfigNote = '';
  private lastConfigView: ConfigurationView | undefined;
  constructor(
    private readonly rt: HostRuntime,
    private readonly links: Coordinator,
    private readonly nics: NicLifecycle,
    readonly effects: PortEffects,
    /** Told every port's busy state, and checked after every sync and port state change. */
    private readonly idle: IdleWatch,
    /** The tap flows: synced before the ports, and a port's unplug waits while a live flow uses it. */
    private readonly taps?: { sync(): void; holds(portId: string): boolean },
  ) {}

  /** A port run, kept until it settles (stop() waits for it). */
  track<T>(effect: (effects: PortEffects) => Promise<T>): Promise<T> {
    return this.rt.track(effect(this.effects));
  }

  /** A plug or unplug run, tracked; its outcome routed: a NIC to read again first, then the output or error to the port machine. */
  run<T>(effect: (effects: PortEffects) => Promise<PortOutcome<T>>): Promise<T> {
    return this.track(async (effects) => {
      const outcome = await effect(effects);
      if (outcome.ok) return outcome.output;
      if (outcome.resyncNic) this.links.resyncNeeded(outcome.resyncNic.nic, outcome.resyncNic.reason);
      throw outcome.error;
    });
  }

  /**
   * The events of one etcd revision (a transaction: bind_port, action and
   * port_status deleted together) arrive in one burst: derive once, after
   * all of them, so a port never sees a half-applied transaction.
   */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      if (!this.rt.stopping) {
        this.syncConfiguration();
        this.taps?.sync();
        this.syncPorts();
      }
      this.idle.check();
    });
  }

  private syncConfiguration(): void {
    const { rt } = this;
    const view = rt.store.configuration();
    // the store keeps the view until the value changes: the same object says the same as last time
    if (view === this.lastConfigView) return;
    this.lastConfigView = view;
    const key = keys.configuration(rt.host);
    const note = view.state === 'valid' ? `valid:${view.raw}` : view.state === 'invalid' ? `invalid:${view.errors.join('|')}` : 'missing';
    if (note === this.lastConfigNote) return;
    this.lastConfigNote = note;
    if (view.state === 'missing') {
      if (rt.active) rt.log.warn('configuration deleted; keeping the running layout until it returns', { key });
      else rt.log.info('waiting for the host configuration', { key });
      return;
    }
    if (view.state === 'invalid') {
      for (const error of view.errors) rt.log.error('invalid host configuration', { key, error, keeping: rt.active ? 'running layout' : 'nothing' });
      return;
    }
    for (const warning of view.warnings) rt.log.warn('host configuration', { key, warning });
    if (rt.active?.raw === view.raw) return;
    // which networking-spp's layout the host runs: c33920f's (array) or the final one (object), declared or default per NIC
    const shape = { key, format: view.format, componentsFromConfiguration: view.layout.filter((n) => n.declared).map((n) => n.secId) };
    if (rt.active) rt.log.info('host configuration changed: rebuilding NICs', shape);
    else rt.log.info('host configuration', shape);
    rt.active = { raw: view.raw, layout: view.layout };
    this.nics.start(view.layout);
    rt.notify({});
  }

  private syncPorts(): void {
    const { rt } = this;
    if (!rt.active) return;
    const facts: HostFacts = { host: rt.host, layout: rt.active.layout, vhosts: rt.store.vhosts(), claims: rt.store.claims() };
    // the store's ports (sorted), then those only a machine still holds, in the machines' order
    const ports = rt.store.portIds().map((id) => rt.store.portKeys(id));
    for (const id of this.links.ports.keys()) if (!rt.store.hasPortKeys(id)) ports.push(rt.store.portKeys(id));
    for (const [id, intent] of portKind.intents(facts, ports)) this.deliver(id, intent);
    for (const { vhostId, formerPort } of this.links.reindex()) this.nics.clearVhost(vhostId, formerPort);
  }

  private deliver(portId: string, intent: PortIntent): void {
    // upstream's _unplug_tap_port: the flows that use the port go first; their removal syncs again
    if (intent.kind === 'unplug' && this.taps?.holds(portId)) return;
    const runtime = this.links.ports.get(portId);
    const revision = this.rt.store.revision;
    if (!runtime) {
      if (intent.kind !== 'idle') this.startPort(portId, intent, revision);
      return;
    }
    if (!portKind.sameIntent(runtime.lastIntent, intent)) {
      runtime.lastIntent = intent;
      this.rt.appendHistory(runtime, revision, `desired: ${portKind.describe(intent)}`);
      this.rt.observer.portDesired(portId, intent, revision);
      runtime.actor.send({ type: 'DESIRED', intent, revision, nicReady: this.links.readyFor(intent) });
    }
    this.forgetIfGone(portId);
  }

  /** Drops the machine of a port whose keys are all gone once it has nothing left to do. */
  private forgetIfGone(portId: string): void {
    const { rt } = this;
    const runtime = this.links.ports.get(portId);
    if (!runtime || rt.store.hasPortKeys(portId)) return;
    const snap = runtime.actor.getSnapshot();
    if (snap.hasTag('free') || snap.hasTag('failed')) {
      runtime.actor.stop();
      this.links.ports.delete(portId);
      this.idle.portBusy(portId, false);
      this.effects.forget(portId);
      rt.observer.portForgotten(portId);
      rt.notify({ portId });
    }
  }

  private startPort(portId: string, intent: PortIntent, revision: number): void {
    const { rt } = this;
    const actor = createActor(providedPortMachine, {
      input: {
        host: rt.host,
        portId,
        intent,
        revision,
        timers: rt.opts.portTimers ?? DEFAULT_PORT_TIMERS,
        nicReady: this.links.readyFor(intent),
        owner: this,
      },
      ...rt.actorOptions,
    });
    const runtime: PortRuntime = { portId, actor, lastIntent: intent, history: [], outcomeLogged: undefined };
    this.links.ports.set(portId, runtime);
    rt.appendHistory(runtime, revision, `desired: ${portKind.describe(intent)}`);
    rt.observer.portDesired(portId, intent, revision);
    let last = '';
    let lastTags: readonly PortTag[] = [];
    let lastBackoffError: string | undefined;
    actor.subscribe({
      next: (snap) => {
        const state = stateName(snap.value);
        if (state === last) return;
        const from = last;
        const fromTags = lastTags;
        const tags = [...snap.tags] as PortTag[];
        last = state;
        lastTags = tags;
        this.idle.portBusy(portId, snap.hasTag('busy'));
        const ctx = snap.context;
        rt.appendHistory(runtime, ctx.revision, `${from || 'start'} -> ${state}`, ctx.lastError);
        rt.observer.portState(portId, state, from);
        const decision = portStateLogLevel(
          { from, state, fromTags, tags, lastError: ctx.lastError, outcomeLogged: runtime.outcomeLogged, stopping: rt.stopping },
          lastBackoffError,
        );
        lastBackoffError = decision.lastBackoffError;
        runtime.outcomeLogged = undefined;
        // a silent logger (the replay's) drops the line anyway: its fields are not built
        if (!rt.log.silent)
          rt.log.log(decision.level, 'port state', {
            port: portId,
            vhost: vhostOf(ctx.intent),
            revision: ctx.revision,
            state,
            from: from || undefined,
            ...(ctx.lastError && (snap.hasTag('retrying') || snap.hasTag('failed')) ? { error: ctx.lastError } : {}),
          });
        rt.notify({ portId });
        // a port whose keys are all gone is forgotten once its machine is at rest
        if (snap.hasTag('free')) this.schedule();
        this.idle.check();
      },
      error: (err) => rt.log.error('port machine crashed', { port: portId, error: String(err) }),
    });
    actor.start();
  }
}
