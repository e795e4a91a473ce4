/**
 * Our extension /spp/openstack/agent/<host>: a key kept alive by an etcd
 * lease while the agent runs, so the driver can refuse to bind to a dead
 * host. Revoked on a graceful stop; expires by TTL after a crash.
 */
import type { Etcd3 } from 'etcd3';
import { isRefusal } from '../etcd/refusal';
import type { Logger } from '../log';
import type { AgentInfo } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import { backoffMs } from '../protocol/retry';
import { KeptLease } from './kept-lease';

export class Liveness {
  private lease: KeptLease | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** Refusals in a row (a missing grant on agent/<host>, bad credentials): retried with a backoff, not every second. */
  private refusals = 0;
  private written = false;

  constructor(
    private readonly client: Etcd3,
    private readonly host: string,
    private readonly ttlSec: number,
    private info: AgentInfo,
    private readonly log: Logger,
    private readonly onRefusal: { refused(reason: string): void; accepted(): void } = { refused: () => undefined, accepted: () => undefined },
  ) {}

  /** Grants the lease and puts the key; on loss (etcd outage longer than the TTL) does it again. */
  start(): void {
    if (this.stopped) return;
    const lease = new KeptLease(this.client, this.ttlSec, (err) => {
      // a lease that never held the key (its grant failed: etcd away) is no news: the cause is logged once elsewhere
      this.log.log(this.written ? 'warn' : 'debug', 'liveness lease lost; granting a new one', { key: keys.agent(this.host), error: err.message });
      this.again();
    });
    this.lease = lease;
    lease.lease
      .put(keys.agent(this.host))
      .value(JSON.stringify(this.info))
      .exec()
      .then(() => {
        this.refusals = 0;
        this.written = this.lease === lease;
        this.onRefusal.accepted();
        this.log.info('liveness key written', { key: keys.agent(this.host), ttl: this.ttlSec });
      })
      .catch((err: Error) => {
        if (isRefusal(err)) {
          this.refusals += 1;
          this.log.error('etcd refused the liveness key: the driver will treat this host as dead; retrying with backoff', {
            key: keys.agent(this.host),
            error: err.message,
          });
          this.onRefusal.refused(`etcd refused the liveness key ${keys.agent(this.host)}: ${err.message}`);
        }
        // every second while etcd is away: the cause itself is logged once (src/daemon/etcd-cause-log.ts)
        else this.log.debug('cannot write the liveness key yet; retrying', { key: keys.agent(this.host), error: err.message });
        this.again();
      });
  }

  /** The key is written under this agent's current lease. */
  get held(): boolean {
    return this.written && !this.stopped;
  }

  private again(): void {
    this.written = false;
    if (this.stopped || this.retry) return;
    const old = this.lease;
    this.lease = undefined;
    old?.release();
    this.retry = setTimeout(
      () => {
        this.retry = undefined;
        this.start();
      },
      this.refusals > 0 ? backoffMs(this.refusals, 1000, 30_000) : 1000,
    );
  }

  /**
   * Says in the key's value why etcd refuses the agent (undefined: it does
   * not), so that `spp status` shows `refused` and why, not `alive`. Put
   * again under the current lease; if that fails, the next grant puts it.
   */
  setRefused(reason: string | undefined): void {
    const { refused: _old, ...rest } = this.info;
    this.info = reason === undefined ? rest : { ...rest, refused: reason };
    const lease = this.lease;
    if (!this.written || !lease) return;
    lease.lease
      .put(keys.agent(this.host))
      .value(JSON.stringify(this.info))
      .exec()
      .catch((err: Error) => this.log.debug('cannot update the liveness value yet', { key: keys.agent(this.host), error: err.message }));
  }

  /** Ends a wait before the next attempt now (the grant probe saw the grant back). */
  retryNow(): void {
    if (!this.retry) return;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.start();
  }

  /** Revokes the lease, deleting the key at once (bounded: etcd may be gone). */
  async stop(timeoutMs = 1000): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.lease?.revoke(timeoutMs);
  }
}
