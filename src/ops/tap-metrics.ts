/**
 * The tap flows' (TaaS) share of the agent's metrics: flows by tap machine
 * state (every state at 0 from the first scrape, as the port states), runs
 * by action and result, errors reported in tap_status, and whether the
 * host's spp_mirror is usable. Labels are bounded (states, actions,
 * results): never a tap flow id.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { nicMachine } from '../../machines/nic';
import { leafStateTags } from '../../machines/state-name';
import type { NicTag, TapTag } from '../../machines/tags';
import { tapMachine } from '../../machines/tap';

const TAP_TAGS = leafStateTags(tapMachine.root) as ReadonlyMap<string, readonly TapTag[]>;
const NIC_TAGS = leafStateTags(nicMachine.root) as ReadonlyMap<string, readonly NicTag[]>;
const TAP_STATES = [...TAP_TAGS.keys()];
const tapIs = (state: string, tag: TapTag): boolean => TAP_TAGS.get(state)?.includes(tag) ?? false;
const RESULTS = ['success', 'error', 'requeue'] as const;

/** Where a tap run ends: done (up, or removed), failed (backoff or reported), or handed back (the keys changed, the processes went away). */
function runResult(next: string): (typeof RESULTS)[number] {
  if (tapIs(next, 'up') || tapIs(next, 'free')) return 'success';
  if (tapIs(next, 'retrying') || tapIs(next, 'failed')) return 'error';
  return 'requeue';
}

export class TapMetrics {
  private readonly states = new Map<string, string>();
  /** The mirror machine's state (the NIC machine's states), undefined while no mirror is configured. */
  private mirror: string | undefined;
  private readonly runs: Counter<'action' | 'result'>;
  private readonly reported: Counter;

  constructor(registers: Registry[]) {
    const states = this.states;
    new Gauge({
      name: 'spp_tap_flows',
      help: 'Tap flows (TaaS) by tap machine state.',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>();
        for (const s of states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
        this.reset();
        for (const state of new Set([...TAP_STATES, ...counts.keys()])) this.set({ state }, counts.get(state) ?? 0);
      },
    });
    this.runs = new Counter({
      name: 'spp_tap_runs_total',
      help: "Tap flow runs (plug: the flow's vf and mirror commands, then tap_status = up; unplug: the commands, then the clean-up) by result: success, error (backoff or failed), requeue (the keys changed meanwhile, or a process became unusable).",
      labelNames: ['action', 'result'],
      registers,
    });
    for (const action of ['plug', 'unplug']) for (const result of RESULTS) this.runs.inc({ action, result }, 0);
    this.reported = new Counter({
      name: 'spp_tap_errors_reported_total',
      help: 'tap_status = error: <reason> written: a flow the agent cannot run (a conflict, no forwarders, no mirror, a rejected command).',
      registers,
    });
    this.reported.inc(0);
    const mirrorUp = (): boolean => this.mirror !== undefined && (NIC_TAGS.get(this.mirror)?.includes('up') ?? false);
    new Gauge({
      name: 'spp_mirror_up',
      help: "1 while the host's spp_mirror is usable (listed by spp-ctl, its mirror components built); 0 before, while it is rebuilt or retried, and when no mirror is configured.",
      registers,
      collect() {
        this.set(mirrorUp() ? 1 : 0);
      },
    });
  }

  tapState(flowId: string, state: string, from: string): void {
    this.states.set(flowId, state);
    if (tapIs(from, 'running')) this.runs.inc({ action: tapIs(from, 'removing') ? 'unplug' : 'plug', result: runResult(state) });
  }

  tapForgotten(flowId: string): void {
    this.states.delete(flowId);
  }

  mirrorState(state: string | undefined): void {
    this.mirror = state;
  }

  /** A tap_status put the writer made (written: the condition held). */
  tapStatusWritten(value: string): void {
    if (value.startsWith('error')) this.reported.inc();
  }
}
