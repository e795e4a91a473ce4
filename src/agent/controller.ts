/**
 * The reconciliation controller of one host: it keeps the etcd cache, runs a
 * port machine per port and a NIC machine per spp_vf, and provides them the
 * actors that do the I/O. It is fed list-watch events and knows nothing of
 * where they come from, so the daemon (etcd3 + HTTP spp-ctl) and the replay
 * tool (snapshots + in-process emulator) share it.
 *
 * Its parts, each in a module of its own: port-sync.ts (configuration and
 * port intents -> port machines), nic-lifecycle.ts (the NIC machines),
 * port-effects.ts (what plug/unplug runs do), port-log-policy.ts, idle.ts,
 * and view.ts (the read model this file builds in view()).
 */
import { stateName } from '../../machines/state-name';
import type { NicTag, PortTag } from '../../machines/tags';
import type { ListWatchEvent } from '../etcd/listwatch';
import { layoutDrift } from '../plan/drift';
import { parseKey } from '../protocol/keys';
import type { NicLayout } from '../protocol/layout';
import { CONTROL_CHARACTER, printable } from '../protocol/printable';
import type { VfStatus } from '../sppctl/wire';
import { Coordinator } from './coordinator';
import { type ControllerOptions, HostRuntime } from './host-runtime';
import { IdleWatch } from './idle';
import { NicLifecycle } from './nic-lifecycle';
import { PortEffects } from './port-effects';
import { PortSync } from './port-sync';
import { TapSync } from './tap-sync';
import type { ControllerView, MirrorView } from './view';

export type { ControllerOptions } from './host-runtime';

/** Distinct stray keys logged one by one; a flood of them must not become a flood of lines. */
const STRAY_LOG_LIMIT = 1000;

export class Controller {
  private readonly rt: HostRuntime;
  private readonly links = new Coordinator();
  private readonly nics: NicLifecycle;
  private readonly sync: PortSync;
  private readonly idleWatch: IdleWatch;
  private readonly taps: TapSync;

  constructor(private readonly opts: ControllerOptions) {
    this.rt = new HostRuntime(opts);
    this.idleWatch = new IdleWatch(
      this.links,
      () => this.sync.scheduled,
      () => this.taps.busy(),
    );
    this.nics = new NicLifecycle(this.rt, this.links, () => this.idleWatch.check());
    this.taps = new TapSync(
      this.rt,
      this.links,
      () => this.sync.schedule(),
      () => this.idleWatch.check(),
    );
    this.nics.moved = (secId) => this.taps.moved(secId);
    this.nics.onAnnounce = (secId, ready, changed) => this.taps.announce(ready, changed, secId);
    this.sync = new PortSync(this.rt, this.links, this.nics, new PortEffects(this.rt, this.links), this.idleWatch, this.taps);
  }

  get store(): HostRuntime['store'] {
    return this.rt.store;
  }

  /** A notice whenever something visible changed (for the visualizer's live updates). */
  get changes(): HostRuntime['changes'] {
    return this.rt.changes;
  }

  /** 'etcd connection lost' was logged at warn and no 'etcd connected' since. */
  private lostLogged = false;

  /** Feeds one list-watch event. */
  handle(ev: ListWatchEvent): void {
    const { rt } = this;
    if (rt.stopping) return;
    switch (ev.type) {
      case 'connection': {
        // the loss is news once; each failed relist after it (a new reason at the backoff's pace) is at debug:
        // the cause is logged once by src/daemon/etcd-cause-log.ts, and a refusal by the daemon
        const level = ev.connected ? 'info' : this.lostLogged ? 'debug' : 'warn';
        this.lostLogged = !ev.connected;
        rt.log.log(level, ev.connected ? 'etcd connected' : 'etcd connection lost', { reason: ev.reason });
        return;
      }
      case 'reset':
        rt.store.reset(ev.entries, ev.revision);
        rt.log.info('listed host keys', { revision: ev.revision, keys: [...rt.store.entries()].length, reason: ev.reason });
        this.logStrays(ev.revision);
        this.sync.schedule();
        return;
      case 'put':
      case 'delete':
        if (!rt.store.apply(ev)) {
          if (ev.type === 'delete') this.strayLogged.delete(ev.key);
          else this.logStrays(ev.revision);
          return;
        }
        // built only when it is written: one per event, the agent's own port_status puts included
        // a silent logger (the replay's) first: winston's isLevelEnabled copies its transport list on every call
        if (!rt.log.silent && rt.log.isLevelEnabled('debug'))
          rt.log.debug('etcd event', { revision: ev.revision, key: ev.key, event: ev.type, ...portFields(ev.key) });
        this.sync.schedule();
        return;
    }
  }

  /** Stray keys already logged: each once (again only after it was deleted), at most STRAY_LOG_LIMIT of them. */
  private readonly strayLogged = new Set<string>();

  /** Logs each stray key of the host once: a key the agent ignores must not be ignored silently. */
  private logStrays(revision: number): void {
    for (const [key, problem] of this.rt.store.takeStrays()) {
      if (this.strayLogged.has(key) || this.strayLogged.size > STRAY_LOG_LIMIT) continue;
      this.strayLogged.add(key);
      const control = CONTROL_CHARACTER.test(key);
      this.rt.log.log(control ? 'error' : 'warn', control ? 'refused a key with a control character' : 'ignoring a stray key', {
        key: printable(key),
        error: problem,
        revision,
      });
      if (this.strayLogged.size > STRAY_LOG_LIMIT)
        this.rt.log.warn('more stray keys than are logged one by one; further ones are not logged', { limit: STRAY_LOG_LIMIT });
    }
  }

  view(): ControllerView {
    const { rt } = this;
    const config = rt.store.configuration();
    return {
      host: rt.host,
      vhosts: [...rt.store.vhosts().entries()]
        .sort(([a], [b]) => a - b)
        .map(([vhostId, v]) => ({
          vhostId,
          phys: v.phys,
          ...(v.owner.ok ? (v.owner.value.free ? {} : { owner: v.owner.value.portId }) : { error: v.owner.error }),
        })),
      revision: rt.store.revision,
      configuration: config.state,
      configurationErrors: config.state === 'invalid' ? config.errors : [],
      nics: [...this.links.nics.values()].map((n) => {
        const snap = n.actor.getSnapshot();
        return {
          secId: n.layout.secId,
          layout: n.layout,
          state: stateName(snap.value),
          tags: [...snap.tags] as NicTag[],
          ...(snap.context.lastError ? { lastError: snap.context.lastError } : {}),
          ...(n.worker.status ? { status: n.worker.status } : {}),
          release: rt.releases.belief(n.layout.secId),
          ...driftOf(n.layout, n.worker.status),
        };
      }),
      taps: this.taps.views(),
      ...optionalMirror(this.taps.mirrorView()),
      ...(this.opts.unplugResetsVlan ? { unplugResetsVlan: true } : {}),
      ports: [...this.links.ports.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([portId, p]) => {
          const snap = p.actor.getSnapshot();
          const ctx = snap.context;
          return {
            portId,
            state: stateName(snap.value),
            tags: [...snap.tags] as PortTag[],
            intent: ctx.intent,
            ...(ctx.observed ? { observed: ctx.observed } : {}),
            ...(ctx.lastError ? { lastError: ctx.lastError } : {}),
            ...(ctx.attempts > 0 ? { attempts: ctx.attempts } : {}),
            revision: ctx.revision,
            history: [...p.history],
          };
        }),
    };
  }

  /** True while a sync is pending, a port is plugging, unplugging or reporting, or a NIC is waiting for its vf or building. */
  busy(): boolean {
    return this.idleWatch.busy();
  }

  /** Resolves once no port is plugging/unplugging and every NIC is ready or retrying. */
  async idle(timeoutMs = 10_000): Promise<void> {
    return this.idleWatch.idle(timeoutMs);
  }

  /**
   * Stops taking work: from now on no spp-ctl request is sent. Waits for the
   * requests in flight (their answer, or the client's timeout), then lets the
   * port runs write what they learned (bounded: etcd may be gone), then stops
   * every machine. The caller releases the host lock after this.
   */
  async stop(graceMs = 1000, inFlightMaxMs = Infinity): Promise<void> {
    const { rt } = this;
    rt.stopping = true;
    const inFlight = await bounded(rt.sppctl.close(), inFlightMaxMs);
    rt.log.info('stopping: no more spp-ctl requests', { inFlightEnded: inFlight ?? 'not all (gave up waiting)' });
    await bounded(Promise.allSettled([...rt.runs]), graceMs);
    for (const p of this.links.ports.values()) p.actor.stop();
    this.taps.stop();
    this.nics.stop();
    rt.changes.complete();
  }
}

/** `p`, or undefined after `ms` (Infinity: no limit). */
async function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  if (ms === Infinity) return p;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<undefined>((r) => {
        timer = setTimeout(() => r(undefined), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function optionalMirror(mirror: MirrorView | undefined): { mirror?: MirrorView } {
  return mirror ? { mirror } : {};
}

function portFields(key: string): Record<string, unknown> {
  const p = parseKey(key);
  if (!p) return {};
  if (p.kind === 'vhost') return { vhost: p.vhostId };
  if (p.kind === 'bind_port' || p.kind === 'action' || p.kind === 'port_status') return { port: p.portId };
  if (p.kind === 'tap_info' || p.kind === 'tap_action' || p.kind === 'tap_status') return { tapFlow: p.tapFlowId };
  if (p.kind === 'mirror') return { mirror: p.mirrorId };
  return {};
}

function driftOf(layout: NicLayout, status: VfStatus | undefined): { drift?: string[] } {
  const drift = status ? layoutDrift(layout, status) : [];
  return drift.length > 0 ? { drift: drift.map((d) => d.text) } : {};
}
