/**
 * When a host's machines have settled: no port plugging, unplugging or
 * reporting, every NIC ready or retrying, no sync pending (the machines'
 * `busy` tag). The replay waits
 * on it after every step, tests and `spp status` after every change.
 */
import type { Coordinator } from './coordinator';

export class IdleWatch {
  /** idle() callers waiting for the machines to settle (woken by state changes, not by polling). */
  private waiters: Array<() => void> = [];
  private checkQueued = false;
  /** Ports whose machine is mid-run (read on every turn, so kept as their states change rather than asked). */
  private readonly busyPorts = new Set<string>();

  constructor(
    private readonly links: Coordinator,
    private readonly syncPending: () => boolean,
    /** Other kinds' machines (tap flows, the mirror) mid-run. */
    private readonly othersBusy: () => boolean = () => false,
  ) {}

  busy(): boolean {
    if (this.syncPending() || this.busyPorts.size > 0 || this.othersBusy()) return true;
    for (const n of this.links.nics.values()) if (n.actor.getSnapshot().hasTag('busy')) return true;
    return false;
  }

  /** A port machine's state change (its `busy` tag), or its port forgotten (false). */
  portBusy(portId: string, busy: boolean): void {
    if (busy) this.busyPorts.add(portId);
    else this.busyPorts.delete(portId);
  }

  /**
   * Called on every machine state change and after every sync: when idle()
   * waits and nothing looks busy, checks again once the microtasks queued
   * meanwhile have run (a state that is at rest for an instant, between a
   * transition and the work it queued, does not count as settled).
   */
  check(): void {
    if (this.waiters.length === 0 || this.checkQueued || this.busy()) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      if (this.busy()) return;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  /** Resolves once nothing is busy; rejects after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (!this.busy()) return;
    await new Promise<void>((resolve, reject) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error('controller still busy'));
      }, timeoutMs);
      this.waiters.push(waiter);
      this.check();
    });
  }
}
