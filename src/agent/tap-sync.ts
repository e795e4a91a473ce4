/**
 * The tap flows of one host (TaaS), level-triggered like the ports: after
 * every burst of etcd events each flow's intent is derived from the store
 * (src/plan/tap-desired.ts) and handed to its machine (machines/tap.ts) when
 * it changed. It also owns the host's spp_mirror (mirror-process.ts), tells
 * the flows when their processes become usable, and answers the two
 * questions the rest of the controller asks of taps: does a live flow hold
 * this port (the port's unplug waits), and which vf ports have flows moved
 * into the mirror (the NIC build leaves them).
 */
import { type Actor, createActor, fromPromise } from 'xstate';
import { stateName } from '../../machines/state-name';
import type { NicTag, TapTag } from '../../machines/tags';
import { type TapReportInput, type TapRunInput, type TapRunOutput, tapMachine } from '../../machines/tap';
import { portsOfTap, processesOfTap, type TapFlow, type TapIntent } from '../plan/tap-desired';
import { tapKind } from '../plan/tap-kind';
import { movedPorts } from '../plan/tap-plan';
import type { MirrorDecl } from '../protocol/configuration';
import { keys } from '../protocol/keys';
import type { Coordinator } from './coordinator';
import type { HostRuntime } from './host-runtime';
import { MirrorProcess } from './mirror-process';
import { TapEffects } from './tap-effects';
import type { MirrorView, TapView } from './view';

interface TapRuntime {
  readonly flowId: string;
  readonly actor: Actor<typeof tapMachine>;
  lastIntent: TapIntent;
  commands: readonly string[];
}

export class TapSync {
  private readonly flows = new Map<string, TapRuntime>();
  private mirror: MirrorProcess | undefined;
  /** The configuration's mirror list the mirror process was started for. */
  private mirrorKey = '';
  private mirrorsSeen: readonly MirrorDecl[] | undefined;
  private nicsSeen = -1;
  private readonly effects: TapEffects;
  /** Provided at the first flow: a replay's many hosts without taps pay no machine.provide(). */
  private machine: ReturnType<TapSync['provide']> | undefined;

  constructor(
    private readonly rt: HostRuntime,
    private readonly links: Coordinator,
    /** Asks for another sync (a flow came to rest: a port's unplug may go on, a flow may be forgotten). */
    private readonly schedule: () => void,
    /** Every flow or mirror state change (idle detection). */
    private readonly onSettle: () => void,
  ) {
    this.effects = new TapEffects(
      rt,
      links,
      () => this.mirror,
      (flowId, commands) => {
        const runtime = this.flows.get(flowId);
        if (runtime) runtime.commands = [...commands];
      },
    );
  }

  // provided per controller (lazily): the actors reach this host's effects without a process-wide registry
  private provide() {
    const { rt } = this;
    const effects = this.effects;
    return tapMachine.provide({
      actors: {
        plug: fromPromise<TapRunOutput, TapRunInput>(async ({ input }) => rt.track(effects.plug(input))),
        unplug: fromPromise<TapRunOutput, TapRunInput>(async ({ input }) => rt.track(effects.unplug(input))),
        reportError: fromPromise<void, TapReportInput>(async ({ input }) => rt.track(effects.reportError(input))),
      },
    });
  }

  /** Derives every flow's intent and delivers the changed ones; starts or stops the mirror with the configuration. */
  sync(): void {
    const { rt } = this;
    const view = rt.store.configuration();
    if (view.state !== 'valid' || !rt.active) return;
    this.syncMirror(view.mirror, rt.active.layout.length);
    // most hosts have no tap flow: nothing to derive, and nothing to forget
    if (this.flows.size === 0 && !rt.store.hasTapFlowKeys()) return;
    const intents = tapKind.intents(
      {
        host: rt.host,
        layout: rt.active.layout,
        mirrors: view.mirror,
        mirrorOwners: rt.store.mirrorOwners(),
        port: (portId) => {
          const k = rt.store.portKeys(portId);
          return { ...(k.bindPort ? { bindPort: k.bindPort } : {}), ...(k.action ? { action: k.action } : {}) };
        },
      },
      rt.store.tapFlows(),
    );
    for (const [flowId, intent] of intents) this.deliver(flowId, intent);
    for (const flowId of [...this.flows.keys()]) if (!intents.has(flowId)) this.forgetIfGone(flowId);
  }

  private syncMirror(mirrors: readonly MirrorDecl[] | undefined, nics: number): void {
    // the configuration's view is cached by raw value: the same list object means nothing changed
    if (mirrors === this.mirrorsSeen && nics === this.nicsSeen) return;
    this.mirrorsSeen = mirrors;
    this.nicsSeen = nics;
    const key = mirrors && mirrors.length > 0 ? `${nics + 1}:${JSON.stringify(mirrors)}` : '';
    if (key === this.mirrorKey) return;
    this.mirrorKey = key;
    if (this.mirror) this.rt.observer.mirrorState?.(this.mirror.secId, undefined);
    this.mirror?.stop();
    this.mirror = undefined;
    if (!mirrors || mirrors.length === 0) return;
    const secId = nics + 1;
    this.rt.log.info('spp_mirror configured', { secId, mirrors: mirrors.length });
    this.mirror = new MirrorProcess(this.rt, secId, mirrors, (ready, changed) => this.announce(ready, changed, undefined), this.onSettle);
    this.mirror.start();
  }

  /** A process of some flows became usable or not; `changed`: it was rebuilt, so flows in place re-plan. `secId` undefined: the mirror. */
  announce(ready: boolean, changed: boolean, secId: number | undefined): void {
    for (const f of this.flows.values()) {
      const snap = f.actor.getSnapshot();
      const procs = processesOfTap(snap.context.intent);
      if (secId === undefined ? procs.mirror === undefined : !procs.vfs.includes(secId)) continue;
      const waiting = snap.hasTag('waiting');
      f.actor.send({ type: 'READY', ready: this.readyFor(snap.context.intent) });
      if (ready && changed && !waiting) f.actor.send({ type: 'RESYNC' });
    }
  }

  private readyFor(intent: TapIntent): boolean {
    const procs = processesOfTap(intent);
    if (procs.mirror !== undefined && !this.mirror?.readyNow) return false;
    return procs.vfs.every((id) => this.links.nics.get(id)?.worker.ready === true);
  }

  private deliver(flowId: string, intent: TapIntent): void {
    const runtime = this.flows.get(flowId);
    const revision = this.rt.store.revision;
    if (!runtime) {
      if (intent.kind !== 'idle') this.start(flowId, intent, revision);
      return;
    }
    if (tapKind.sameIntent(runtime.lastIntent, intent)) return;
    runtime.lastIntent = intent;
    this.rt.log.info('tap flow desired', { tapFlow: flowId, revision, desired: tapKind.describe(intent) });
    runtime.actor.send({ type: 'DESIRED', intent, revision, ready: this.readyFor(intent) });
  }

  private forgetIfGone(flowId: string): void {
    const runtime = this.flows.get(flowId);
    if (!runtime) return;
    const snap = runtime.actor.getSnapshot();
    if (!snap.hasTag('free') && !snap.hasTag('failed')) return;
    runtime.actor.stop();
    this.flows.delete(flowId);
    this.rt.observer.tapForgotten?.(flowId);
    this.rt.notify({});
  }

  private start(flowId: string, intent: TapIntent, revision: number): void {
    const { rt } = this;
    this.machine ??= this.provide();
    const actor = createActor(this.machine, {
      input: {
        host: rt.host,
        flowId,
        intent,
        revision,
        ready: this.readyFor(intent),
        ...(rt.opts.portTimers ? { backoffBaseMs: rt.opts.portTimers.backoffBaseMs, backoffMaxMs: rt.opts.portTimers.backoffMaxMs } : {}),
      },
      ...rt.actorOptions,
    });
    const runtime: TapRuntime = { flowId, actor, lastIntent: intent, commands: [] };
    this.flows.set(flowId, runtime);
    rt.log.info('tap flow desired', { tapFlow: flowId, revision, desired: tapKind.describe(intent) });
    let last = '';
    actor.subscribe({
      next: (snap) => {
        const state = stateName(snap.value);
        if (state === last) return;
        const from = last;
        last = state;
        rt.observer.tapState?.(flowId, state, from);
        const ctx = snap.context;
        const trouble = snap.hasTag('retrying') || snap.hasTag('failed');
        rt.log.log(trouble ? 'warn' : 'info', 'tap flow state', {
          tapFlow: flowId,
          revision: ctx.revision,
          state,
          from: from || undefined,
          tags: [...snap.tags],
          ...(ctx.lastError && trouble ? { error: ctx.lastError } : {}),
        });
        rt.notify({});
        // at rest: a port's unplug may go on, a flow whose keys are gone may be forgotten
        if (snap.hasTag('free') || snap.hasTag('failed') || snap.hasTag('up')) this.schedule();
        this.onSettle();
      },
      error: (err) => rt.log.error('tap machine crashed', { tapFlow: flowId, error: String(err) }),
    });
    actor.start();
  }

  /** Whether a flow that is not at rest for good uses the port: the port's unplug waits for it (upstream's _unplug_tap_port first). */
  holds(portId: string): boolean {
    for (const f of this.flows.values()) {
      const snap = f.actor.getSnapshot();
      if (snap.hasTag('free') || snap.hasTag('failed')) continue;
      if (portsOfTap(snap.context.intent).includes(portId)) return true;
    }
    return false;
  }

  /** The vf ports (`component/port/dir`) live flows have moved into the mirror: the NIC build must not attach them back. */
  moved(secId: number): ReadonlySet<string> {
    const flows: TapFlow[] = [];
    for (const f of this.flows.values()) {
      const snap = f.actor.getSnapshot();
      const intent = snap.context.intent;
      if ((intent.kind === 'plug' || intent.kind === 'unplug') && intent.flow && !snap.hasTag('free')) flows.push(intent.flow);
    }
    return movedPorts(flows, secId);
  }

  busy(): boolean {
    if (this.mirror?.actor.getSnapshot().hasTag('busy')) return true;
    for (const f of this.flows.values()) if (f.actor.getSnapshot().hasTag('busy')) return true;
    return false;
  }

  stop(): void {
    for (const f of this.flows.values()) f.actor.stop();
    this.mirror?.stop();
  }

  views(): TapView[] {
    return [...this.flows.values()]
      .sort((a, b) => a.flowId.localeCompare(b.flowId))
      .map((f) => {
        const snap = f.actor.getSnapshot();
        const ctx = snap.context;
        const intent = ctx.intent;
        const flow = (intent.kind === 'plug' || intent.kind === 'unplug') && intent.flow ? intent.flow : undefined;
        const dirs = flow?.legs.map((l) => l.dir) ?? [];
        return {
          flowId: f.flowId,
          state: stateName(snap.value),
          tags: [...snap.tags] as TapTag[],
          intent,
          ...(dirs.length > 0 ? { direction: dirs.length === 2 ? ('BOTH' as const) : dirs[0]! } : {}),
          ...(flow
            ? {
                source: { portId: flow.source.portId, vhostId: flow.source.vhostId, secId: flow.source.secId },
                service: { portId: flow.service.portId, vhostId: flow.service.vhostId, secId: flow.service.secId },
                mirrors: flow.legs.map((l) => ({
                  dir: l.dir,
                  mirrorId: l.mirrorId,
                  component: l.component,
                  serviceRing: l.serviceRing,
                  sourceRing: l.sourceRing,
                })),
                redirects: tapKind.draw(flow),
              }
            : {}),
          ...(ctx.lastError ? { lastError: ctx.lastError } : {}),
          ...(ctx.attempts > 0 ? { attempts: ctx.attempts } : {}),
          revision: ctx.revision,
          commands: f.commands,
          statusKey: keys.tapStatus(this.rt.host, f.flowId),
        };
      });
  }

  mirrorView(): MirrorView | undefined {
    const m = this.mirror;
    if (!m) return undefined;
    const snap = m.actor.getSnapshot();
    return {
      secId: m.secId,
      state: stateName(snap.value),
      tags: [...snap.tags] as NicTag[],
      ...(snap.context.lastError ? { lastError: snap.context.lastError } : {}),
      ...(m.status ? { status: m.status } : {}),
      components: m.mirrors.map((d, k) => ({ mirrorId: k, name: `mirror_${k}`, core: d.core, ports: d.ports })),
    };
  }
}
