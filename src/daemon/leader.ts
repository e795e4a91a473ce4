/**
 * One active agent per host: an etcd lease lock on
 * /spp/openstack/agent-lock/<host>, taken before the agent lists, watches or
 * talks to spp-ctl. A second agent for the same host stands by and takes
 * over once the holder's lease expires (at most the TTL after it died).
 */
import { hostname } from 'node:os';
import type { Etcd3 } from 'etcd3';
import { describeUser, isRefusal } from '../etcd/refusal';
import type { Logger } from '../log';
import { keys } from '../protocol/keys';
import { backoffMs } from '../protocol/retry';
import { KeptLease } from './kept-lease';

/** The lock's value: who holds it. `node` and `pid` let a restarted agent see that the holder died. */
export function holderValue(version: string, startedAt: string): string {
  return JSON.stringify({ node: hostname(), pid: process.pid, version, started_at: startedAt });
}

/** True when the holder ran on this node and its process no longer exists. */
export function holderIsDeadHere(value: string): boolean {
  let holder: { node?: unknown; pid?: unknown };
  // agents write about 100 bytes; anything else is not a holder we can judge
  if (value.length > 4096) return false;
  try {
    holder = JSON.parse(value) as { node?: unknown; pid?: unknown };
  } catch {
    return false;
  }
  if (holder.node !== hostname() || typeof holder.pid !== 'number' || holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface LeaderLockOptions {
  readonly client: Etcd3;
  readonly host: string;
  readonly ttlSec: number;
  /** The lock key's value, for operators (who holds it). */
  readonly holder: string;
  readonly log: Logger;
  /** The lock was lost and another agent holds it now: this one must stop working. */
  readonly onLost: (reason: string) => void;
  /** Delay between attempts while standing by or while etcd is unreachable. */
  readonly pollMs?: number;
  /** etcd refused the lock (a missing grant, bad credentials): retried with a backoff of 1 s doubling to 30 s. */
  readonly onRefused?: (reason: string) => void;
  /** The etcd user, for the refusal message. */
  readonly user?: string;
}

export class LeaderLock {
  private lease: KeptLease | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private announcedStandby = false;

  constructor(private readonly opts: LeaderLockOptions) {}

  get key(): string {
    return keys.agentLock(this.opts.host);
  }

  /** This process holds the lock now (false while standing by, or while its lease is being replaced). */
  get held(): boolean {
    return this.lease !== undefined && !this.stopped;
  }

  /** Another agent was found holding the lock (and this one has not taken it since). */
  get standingBy(): boolean {
    return this.announcedStandby && this.lease === undefined;
  }

  /** Resolves once this process holds the lock; false when stopped before that. */
  async acquire(): Promise<boolean> {
    let refusals = 0;
    while (!this.stopped) {
      let refused: string | undefined;
      const outcome = await this.tryOnce().catch((err: Error) => {
        if (isRefusal(err)) refused = `etcd refused ${describeUser(this.opts.user)} the agent lock ${this.key}: ${err.message}`;
        return `error: ${err.message}`;
      });
      if (outcome === 'held') return !this.stopped;
      if (refused !== undefined) {
        refusals += 1;
        this.opts.log.error('cannot take the agent lock: refused; retrying with backoff', { key: this.key, reason: refused });
        this.opts.onRefused?.(refused);
        await this.sleep(backoffMs(refusals, 1000, 30_000));
        continue;
      }
      if (outcome === 'taken') {
        if (!this.announcedStandby) this.opts.log.info(`another agent holds the lock for host ${this.opts.host}; standing by`, { key: this.key });
        this.announcedStandby = true;
      } else {
        // every 250 ms while etcd is away: the cause itself is logged once (src/daemon/etcd-cause-log.ts)
        this.opts.log.debug('cannot take the agent lock yet; retrying', { key: this.key, error: outcome });
      }
      await this.sleep(this.opts.pollMs ?? 250);
    }
    return false;
  }

  /** One attempt: the key is created with our lease only if nobody has it. */
  private async tryOnce(): Promise<'held' | 'taken'> {
    const { client } = this.opts;
    // A cheap read first, so a standby does not grant a lease per poll.
    let current: string | undefined = (await client.get(this.key).exec()).kvs[0]?.value.toString();
    if (current !== undefined && current !== this.opts.holder) {
      if (!holderIsDeadHere(current)) return 'taken';
      // A crashed agent on this very node (systemd restarts it at once): its
      // process is gone, so waiting out its lease would only delay recovery.
      const gone = await client.if(this.key, 'Value', '==', current).then(client.delete().key(this.key)).commit();
      if (!gone.succeeded) return 'taken';
      this.opts.log.info('the previous agent on this node is gone; taking its lock without waiting for its lease', { key: this.key, holder: current });
      current = undefined;
    }
    // Our own key, still there under a lease we gave up on (etcd extends
    // leases across a leader election): move it to the new lease.
    const free = current === undefined ? client.if(this.key, 'Create', '==', 0) : client.if(this.key, 'Value', '==', this.opts.holder);
    const lease = new KeptLease(client, this.opts.ttlSec, (err) => {
      if (this.lease === lease) void this.relock(err.message);
    });
    let res;
    try {
      const id = await lease.lease.grant();
      res = await free.then(client.put(this.key).value(this.opts.holder).lease(id)).commit();
    } catch (err) {
      lease.release();
      throw err;
    }
    if (!res.succeeded || this.stopped) {
      await lease.revoke().catch(() => undefined);
      return 'taken';
    }
    this.lease = lease;
    this.opts.log.info('agent lock taken', { key: this.key, ttl: this.opts.ttlSec });
    return 'held';
  }

  /**
   * The lease expired (etcd unreachable for longer than the TTL). If nobody
   * took the key meanwhile, take it again and carry on; if another agent did,
   * this one is no longer allowed to act.
   */
  private async relock(why: string): Promise<void> {
    if (this.stopped) return;
    this.lease = undefined;
    this.opts.log.warn('agent lock lease lost; taking the lock again', { key: this.key, error: why });
    while (!this.stopped) {
      const outcome = await this.tryOnce().catch((err: Error) => `error: ${err.message}`);
      if (outcome === 'held') return;
      if (outcome === 'taken') {
        this.opts.onLost(`another agent took the lock ${this.key} while this one was cut off from etcd`);
        return;
      }
      await this.sleep(this.opts.pollMs ?? 250);
    }
  }

  /** Ends a wait between attempts now (the grant probe saw the lock granted again). */
  retryNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** Stops waiting and releases the lock (revokes the lease), bounded since etcd may be gone. */
  async release(timeoutMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    const lease = this.lease;
    this.lease = undefined;
    await lease?.revoke(timeoutMs);
  }
}
