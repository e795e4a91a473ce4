/**
 * The agent's Prometheus metrics (prom-client), named as controller-runtime
 * and client-go name theirs, with an `spp_` prefix. Labels are bounded sets
 * (kinds, results, machine states, spp-ctl path templates, status codes,
 * reason categories): never a port id or a MAC, so the number of series
 * does not grow with the ports.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { nicMachine } from '../../machines/nic';
import { portMachine } from '../../machines/port';
import { leafStateTags } from '../../machines/state-name';
import type { NicTag, PortTag } from '../../machines/tags';
import type { AgentObserver, ReleaseBelief } from '../agent/observer';
import type { ListWatchEvent } from '../etcd/listwatch';
import type { PortIntent } from '../plan/desired';
import { VERSION } from '../version';
import { TapMetrics } from './tap-metrics';

/** Every label value a series of a bounded set can have: each is exported (at 0) from the first scrape, so rate() and absent() work from the start. */
const PORT_TAGS = leafStateTags(portMachine.root) as ReadonlyMap<string, readonly PortTag[]>;
const NIC_TAGS = leafStateTags(nicMachine.root) as ReadonlyMap<string, readonly NicTag[]>;
const PORT_STATES = [...PORT_TAGS.keys()];
const NIC_STATES = [...NIC_TAGS.keys()];
/** The observer is told state names (they are the gauges' labels); what a state means is asked of its tags. */
const portIs = (state: string, tag: PortTag): boolean => PORT_TAGS.get(state)?.includes(tag) ?? false;
const nicIs = (state: string, tag: NicTag): boolean => NIC_TAGS.get(state)?.includes(tag) ?? false;
const RUN_RESULTS = ['success', 'error', 'requeue'] as const;
const REASONS = ['start', 'compacted', 'refused', 'cancelled', 'disconnected', 'error', 'other'] as const;
const WRITE_OPS = ['port_status', 'unplug_cleanup', 'tap_status', 'tap_cleanup'] as const;
export type WriteOp = (typeof WRITE_OPS)[number];
const WRITE_RESULTS = ['written', 'condition_failed', 'error'] as const;
/** spp-ctl codes that mean it gave no answer at all (SppCtlError.kind, or none): spp_sppctl_up is 0 after them. */
const NO_ANSWER = new Set(['unreachable', 'timeout']);

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const CONVERGENCE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** Where a port run (plug, unplug) ends: the state the machine goes to. */
function runResult(next: string): 'success' | 'error' | 'requeue' {
  if (portIs(next, 'up') || portIs(next, 'free')) return 'success';
  if (portIs(next, 'retrying') || portIs(next, 'failed')) return 'error';
  return 'requeue'; // evaluating (the desired state changed meanwhile), waitingForNic
}

/** A list-watch reason (free text naming keys and revisions) as one of a few categories. */
export function reasonCategory(reason: string): string {
  if (reason === 'start') return 'start';
  if (/compacted/.test(reason)) return 'compacted';
  if (/refused|permission denied|authenticat/i.test(reason)) return 'refused';
  if (/cancel/.test(reason)) return 'cancelled';
  if (/disconnected/.test(reason)) return 'disconnected';
  if (/fail|unavailable|timed? ?out|deadline|ECONNREFUSED/i.test(reason)) return 'error';
  return 'other';
}

/** `/v1/vfs/1/components/forward_0_rx/ports` -> `/v1/vfs/{id}/components/{name}/ports`. */
export function pathTemplate(path: string): string {
  return path.replace(/^\/v1\/(vfs|nfvs|mirrors|pcaps)\/\d+/, '/v1/$1/{id}').replace(/\/components\/[^/]+/, '/components/{name}');
}

interface Pending {
  readonly since: number;
  readonly action: 'plug' | 'unplug';
}

export interface AgentMetricsOptions {
  /** Milliseconds, for durations and ages; default Date.now. */
  readonly now?: () => number;
  /** Register prom-client's process metrics (default true; one registry per agent). */
  readonly processMetrics?: boolean;
}

export class AgentMetrics implements AgentObserver {
  readonly registry = new Registry();
  private readonly now: () => number;
  /** State of every port the controller runs (for the gauge, counted at scrape time). */
  private readonly portStates = new Map<string, string>();
  private readonly nicStates = new Map<number, string>();
  /** Ports whose desired state is not reached yet, since the change that made them so. */
  private readonly pending = new Map<string, Pending>();
  /** Port and NIC runs in flight: start time. */
  private readonly portRuns = new Map<string, number>();
  private readonly nicRuns = new Map<number, number>();
  private ready: () => boolean = () => false;
  private applied = 0;

  private readonly reconciles: Counter<'kind' | 'result'>;
  private readonly reconcileSeconds: Histogram<'kind'>;
  private readonly sppctlRequests: Counter<'method' | 'path' | 'code'>;
  private readonly sppctlSeconds: Histogram<'method' | 'path'>;
  private readonly etcdWrites: Counter<'op' | 'result'>;
  private readonly lastRevision: Gauge;
  private readonly relists: Counter<'reason'>;
  private readonly watchRestarts: Counter<'reason'>;
  private readonly convergence: Histogram<'action'>;
  private readonly releaseInfo: Gauge<'vf' | 'family' | 'reason'>;
  private readonly releaseLabels = new Map<number, { vf: string; family: string; reason: string }>();
  private livenessProbe: () => boolean = () => false;
  private lockProbe: () => boolean = () => false;
  /** The list-watch's last word: listed or connected (true), or lost etcd (false). */
  private etcdUp = false;
  /** spp-ctl's last answer: any HTTP answer (true), none (false); undefined before the first request. */
  private sppctlAnswered = false;
  private host: string | undefined;
  private readonly taps: TapMetrics;

  constructor(opts: AgentMetricsOptions = {}) {
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'spp_build_info',
      help: 'Always 1; the labels say which spp and which node run.',
      labelNames: ['version', 'node_version'],
      registers,
    }).set({ version: VERSION, node_version: process.version }, 1);
    const hostOf = (): string | undefined => this.host;
    new Gauge({
      name: 'spp_agent_info',
      help: 'Always 1; the label names the host this agent serves (join on it: spp_ports * on(instance) group_left(host) spp_agent_info).',
      labelNames: ['host'],
      registers,
      collect() {
        this.reset();
        const host = hostOf();
        if (host !== undefined) this.set({ host }, 1);
      },
    });
    this.reconciles = new Counter({
      name: 'spp_reconcile_total',
      help: 'Port runs (plug, unplug) and NIC builds, by result: success, error (backoff or failed), requeue (waiting for the NIC, or the desired state changed meanwhile).',
      labelNames: ['kind', 'result'],
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: 'spp_reconcile_duration_seconds',
      help: 'How long a port run or a NIC build took.',
      labelNames: ['kind'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const portStates = this.portStates;
    new Gauge({
      name: 'spp_ports',
      help: 'Ports by port machine state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = countBy(portStates.values());
        this.reset();
        // every state, 0 when no port is in it; a state outside the machine (none today) is still counted
        for (const state of new Set([...PORT_STATES, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    const nicStates = this.nicStates;
    new Gauge({
      name: 'spp_nics',
      help: 'NICs (spp_vf processes) by NIC machine state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = countBy(nicStates.values());
        this.reset();
        for (const state of new Set([...NIC_STATES, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    this.sppctlRequests = new Counter({
      name: 'spp_sppctl_requests_total',
      help: 'spp-ctl requests by method, path template and HTTP status code (unreachable, timeout or invalid when there was no usable answer).',
      labelNames: ['method', 'path', 'code'],
      registers,
    });
    this.sppctlSeconds = new Histogram({
      name: 'spp_sppctl_request_duration_seconds',
      help: 'spp-ctl request latency.',
      labelNames: ['method', 'path'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.etcdWrites = new Counter({
      name: 'spp_etcd_writes_total',
      help: "The agent's etcd transactions (port_status put, unplug cleanup, tap_status put, tap flow clean-up) by result: written, condition_failed (the action changed: nothing written), error.",
      labelNames: ['op', 'result'],
      registers,
    });
    this.lastRevision = new Gauge({ name: 'spp_etcd_last_applied_revision', help: "The last etcd revision of the host's keys the agent applied.", registers });
    this.relists = new Counter({
      name: 'spp_etcd_relists_total',
      help: "Full reads of the host's keys followed by new watches, by reason (start, compacted, cancelled, refused, error, disconnected).",
      labelNames: ['reason'],
      registers,
    });
    this.watchRestarts = new Counter({
      name: 'spp_etcd_watch_restarts_total',
      help: 'Times the list-watch lost etcd (a watch disconnected, a read failed), by reason.',
      labelNames: ['reason'],
      registers,
    });
    // read at each scrape: 1 while the probe holds
    const flag = (name: string, help: string, probe: () => boolean): void =>
      void new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(probe() ? 1 : 0);
        },
      });
    flag('spp_host_lock_held', '1 while this agent holds agent-lock/<host>; 0 while it stands by.', () => this.lockProbe());
    flag('spp_liveness_key_held', "1 while the liveness key agent/<host> is written under this agent's lease.", () => this.livenessProbe());
    flag('spp_agent_ready', '1 when /readyz answers 200.', () => this.ready());
    flag(
      'spp_etcd_up',
      "1 while the agent's list-watch of the host's keys is connected to etcd (listed and watching); 0 before that and after it lost etcd.",
      () => this.etcdUp,
    );
    flag(
      'spp_sppctl_up',
      "1 when spp-ctl answered the agent's last request (with any HTTP status); 0 before the first answer and after a request got none (unreachable, timeout). The agent asks at least every --resync-interval.",
      () => this.sppctlAnswered,
    );
    this.releaseInfo = new Gauge({
      name: 'spp_sppctl_release_info',
      help: 'The SPP release family the agent believes runs each spp_vf (1), and what the belief rests on: status, start-accepted, start-fallback or error-text.',
      labelNames: ['vf', 'family', 'reason'],
      registers,
    });
    this.convergence = new Histogram({
      name: 'spp_port_convergence_seconds',
      help: "Time from a port's desired change (the etcd revision the agent read) to the moment observed equals desired (plugged, or removed); once per change.",
      labelNames: ['action'],
      buckets: CONVERGENCE_BUCKETS,
      registers,
    });
    const pending = this.pending;
    const now = this.now;
    new Gauge({
      name: 'spp_port_oldest_unconverged_seconds',
      help: 'Age of the oldest desired change not reached yet (0 when every port is converged).',
      registers,
      collect() {
        let oldest: number | undefined;
        for (const p of pending.values()) oldest = oldest === undefined ? p.since : Math.min(oldest, p.since);
        this.set(oldest === undefined ? 0 : Math.max(0, now() - oldest) / 1000);
      },
    });
    new Gauge({
      name: 'spp_ports_unconverged',
      help: 'Ports whose desired plug or unplug is not reached yet.',
      registers,
      collect() {
        this.set(pending.size);
      },
    });
    for (const kind of ['port', 'nic']) {
      for (const result of RUN_RESULTS) this.reconciles.inc({ kind, result }, 0);
      this.reconcileSeconds.zero({ kind });
    }
    for (const op of WRITE_OPS) for (const result of WRITE_RESULTS) this.etcdWrites.inc({ op, result }, 0);
    for (const reason of REASONS) {
      this.relists.inc({ reason }, 0);
      this.watchRestarts.inc({ reason }, 0);
    }
    for (const action of ['plug', 'unplug']) this.convergence.zero({ action });
    this.taps = new TapMetrics(registers);
  }

  /** The daemon's host and probes, read at scrape time. */
  bind(probes: { host: string; ready: () => boolean; lockHeld: () => boolean; livenessHeld: () => boolean }): void {
    this.host = probes.host;
    this.ready = probes.ready;
    this.lockProbe = probes.lockHeld;
    this.livenessProbe = probes.livenessHeld;
  }

  // AgentObserver

  portDesired(portId: string, intent: PortIntent, _revision: number): void {
    if (intent.kind !== 'plug' && intent.kind !== 'unplug') {
      this.pending.delete(portId);
      return;
    }
    // a change while one is still pending: the port has been unconverged since the first
    const p = this.pending.get(portId);
    this.pending.set(portId, { since: p?.since ?? this.now(), action: intent.kind });
  }

  portState(portId: string, state: string, from: string): void {
    this.portStates.set(portId, state);
    const now = this.now();
    if (portIs(from, 'running')) {
      const started = this.portRuns.get(portId);
      this.portRuns.delete(portId);
      this.reconciles.inc({ kind: 'port', result: runResult(state) });
      if (started !== undefined) this.reconcileSeconds.observe({ kind: 'port' }, (now - started) / 1000);
    }
    if (portIs(state, 'running')) this.portRuns.set(portId, now);
    const p = this.pending.get(portId);
    if (p && ((p.action === 'plug' && portIs(state, 'up')) || (p.action === 'unplug' && portIs(state, 'free')))) {
      this.pending.delete(portId);
      this.convergence.observe({ action: p.action }, (now - p.since) / 1000);
    }
  }

  portForgotten(portId: string): void {
    this.portStates.delete(portId);
    this.pending.delete(portId);
    this.portRuns.delete(portId);
  }

  /** The controller's onNicState. */
  nicState(secId: number, state: string): void {
    this.nicStates.set(secId, state);
    const now = this.now();
    const started = this.nicRuns.get(secId);
    if (started !== undefined && !nicIs(state, 'running')) {
      this.nicRuns.delete(secId);
      this.reconciles.inc({ kind: 'nic', result: nicIs(state, 'up') ? 'success' : nicIs(state, 'retrying') ? 'error' : 'requeue' });
      this.reconcileSeconds.observe({ kind: 'nic' }, (now - started) / 1000);
    }
    if (nicIs(state, 'running')) this.nicRuns.set(secId, now);
  }

  sppRelease(secId: number, belief: ReleaseBelief): void {
    const previous = this.releaseLabels.get(secId);
    if (previous) this.releaseInfo.remove(previous);
    const labels = { vf: String(secId), family: belief.family, reason: belief.basis };
    this.releaseLabels.set(secId, labels);
    this.releaseInfo.set(labels, 1);
  }

  sppctlRequest(method: string, path: string, code: string, ms: number): void {
    this.sppctlAnswered = !NO_ANSWER.has(code);
    const labels = { method, path: pathTemplate(path) };
    this.sppctlRequests.inc({ ...labels, code });
    this.sppctlSeconds.observe(labels, ms / 1000);
  }

  etcdWrite(op: WriteOp, result: 'written' | 'condition_failed' | 'error'): void {
    this.etcdWrites.inc({ op, result });
  }

  tapState(flowId: string, state: string, from: string): void {
    this.taps.tapState(flowId, state, from);
  }

  tapForgotten(flowId: string): void {
    this.taps.tapForgotten(flowId);
  }

  mirrorState(_secId: number, state: string | undefined): void {
    this.taps.mirrorState(state);
  }

  /** A tap_status put that was written (the instrumented writer). */
  tapStatusWritten(value: string): void {
    this.taps.tapStatusWritten(value);
  }

  /** Every list-watch event the daemon feeds the controller. */
  listWatchEvent(ev: ListWatchEvent): void {
    switch (ev.type) {
      case 'reset':
        this.etcdUp = true;
        this.relists.inc({ reason: reasonCategory(ev.reason.replace(/^relist after: /, '')) });
        this.applied = ev.revision;
        this.lastRevision.set(ev.revision);
        return;
      case 'put':
      case 'delete':
        this.applied = Math.max(ev.revision, this.applied);
        this.lastRevision.set(this.applied);
        return;
      case 'connection':
        this.etcdUp = ev.connected;
        if (!ev.connected) this.watchRestarts.inc({ reason: ev.refused ? 'refused' : reasonCategory(ev.reason) });
        return;
    }
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

function countBy(values: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}
