/**
 * What the replay shows of tap flows (TaaS): every state each flow's machine
 * went through and every command its runs sent, read from the controller's
 * view on its change notices. The view is read only once a step carried a
 * tap key, so replays of hosts without taps cost nothing more.
 */
import type { ControllerView } from '../agent/view';
import type { TapReport } from './report';

interface Tracked {
  readonly states: string[];
  readonly commands: string[];
  /** The last run's command list as the view showed it (a run's list is replaced, not appended, in the view). */
  lastRun: readonly string[];
  lastError?: string;
}

export class TapTracker {
  private readonly flows = new Map<string, Tracked>();
  private active = false;

  constructor(
    private readonly view: () => ControllerView,
    /** A line for the step's trace (--step), or nothing when not tracing. */
    private readonly trace: (line: string) => void,
    /** Subscribes `changed` to the controller's change notices: done at the first tap key, so a host without taps has no listener (the controller then builds no notices). */
    private readonly listen: (changed: () => void) => void,
  ) {}

  /** A step carried `key`: from the first tap key on, the flows are followed. */
  sawKey(key: string): void {
    if (this.active || !/\/(tap_info|tap_action|tap_status|mirror)\//.test(key)) return;
    this.active = true;
    this.listen(() => this.changed());
  }

  /** The controller's change notice. */
  changed(): void {
    if (!this.active) return;
    for (const t of this.view().taps ?? []) {
      let f = this.flows.get(t.flowId);
      if (!f) {
        f = { states: [], commands: [], lastRun: [] };
        this.flows.set(t.flowId, f);
      }
      if (f.states[f.states.length - 1] !== t.state) {
        f.states.push(t.state);
        this.trace(`tap flow ${t.flowId}: ${t.state}${t.lastError ? ` (${t.lastError})` : ''}`);
      }
      if (t.lastError) f.lastError = t.lastError;
      // a run's list grows as its steps are answered; a new run starts a new list
      if (t.commands !== f.lastRun && t.commands.length > 0) {
        const same = f.lastRun.length <= t.commands.length && f.lastRun.every((c, i) => t.commands[i] === c);
        f.commands.push(...(same ? t.commands.slice(f.lastRun.length) : t.commands));
        f.lastRun = t.commands;
      }
    }
  }

  report(): TapReport[] {
    return [...this.flows.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([flowId, f]) => ({
        flowId,
        state: f.states[f.states.length - 1] ?? 'unknown',
        states: [...f.states],
        commands: [...f.commands],
        ...(f.lastError ? { lastError: f.lastError } : {}),
      }));
  }
}
