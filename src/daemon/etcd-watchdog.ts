/**
 * The last line of defence against a wedged etcd client (issue 26): if the
 * agent's own client gets no answer from etcd for `boundMs` while a fresh,
 * short-lived client gets one, restarting the process is the only way out;
 * the agent then says why, /livez fails and the process exits non-zero
 * (systemd restarts it). While etcd answers nobody, the clock does not run:
 * a restart would not help, and the agent reports the outage itself.
 */
import { etcdAnswered } from '../etcd/health';
import type { Logger } from '../log';

export interface WatchdogOptions {
  readonly boundMs: number;
  /** A cheap call through the agent's own client. */
  readonly probe: () => Promise<unknown>;
  /** The same call through a new client, closed afterwards. */
  readonly probeFresh: () => Promise<unknown>;
  readonly log: Logger;
  readonly onStuck: (reason: string) => void;
  /** A probe that has not settled by then counts as unanswered (default 6 s: longer than the 5 s call deadline). */
  readonly probeTimeoutMs?: number;
}

/** How often the watchdog probes for a bound: four times per bound, every 1 to 15 s. */
export function probeIntervalMs(boundMs: number): number {
  return Math.min(15_000, Math.max(1000, boundMs / 4));
}

/** Whether etcd answered `call` within `timeoutMs` (an error etcd itself sent is an answer). */
export async function answered(call: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([
      call.then(
        () => true,
        (err: unknown) => etcdAnswered(err),
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export class EtcdWatchdog {
  private lastAnswer = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private reason: string | undefined;

  constructor(private readonly opts: WatchdogOptions) {}

  /** Why the client is considered stuck; undefined while it is not. */
  get stuck(): string | undefined {
    return this.reason;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped || this.reason) return;
    this.timer = setTimeout(() => void this.tick().finally(() => this.schedule()), probeIntervalMs(this.opts.boundMs));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const timeout = this.opts.probeTimeoutMs ?? 6000;
    if (await answered(this.opts.probe(), timeout)) {
      this.lastAnswer = Date.now();
      return;
    }
    if (this.stopped) return;
    if (!(await answered(this.opts.probeFresh(), timeout))) {
      // etcd answers nobody: an outage, not this client's fault
      this.lastAnswer = Date.now();
      return;
    }
    const silentMs = Date.now() - this.lastAnswer;
    this.opts.log.warn("etcd answers a new client but not the agent's own", { silentSec: Math.round(silentMs / 1000), boundSec: this.opts.boundMs / 1000 });
    if (silentMs < this.opts.boundMs || this.stopped) return;
    this.reason = `the agent's etcd client has had no answer for ${Math.round(silentMs / 1000)} s while etcd answers a new client (--etcd-watchdog ${this.opts.boundMs / 1000}): exiting so that it is restarted`;
    this.opts.log.error('etcd client stuck', { reason: this.reason });
    this.opts.onStuck(this.reason);
  }
}
