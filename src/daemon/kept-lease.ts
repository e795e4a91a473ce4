/**
 * An etcd lease kept alive by our own timer (one keep-alive at a time),
 * instead of etcd3's autoKeepAlive: after keep-alive stream errors (an etcd
 * member going away) etcd3 can re-establish its keep-alive twice and tear
 * down only one, leaking an interval that outlives revoke() and keeps the
 * process running.
 */
import type { Etcd3, Lease } from 'etcd3';

export class KeptLease {
  readonly lease: Lease;
  private readonly timer: NodeJS.Timeout;
  private lastOk = Date.now();
  private inflight = false;
  private lost = false;

  constructor(
    client: Etcd3,
    private readonly ttlSec: number,
    private readonly onLost: (err: Error) => void,
  ) {
    this.lease = client.lease(ttlSec, { autoKeepAlive: false });
    // grant failures and an expiry etcd reports arrive here
    this.lease.on('lost', (err: Error) => this.lose(err));
    this.timer = setInterval(() => this.beat(), (ttlSec * 1000) / 3);
  }

  private beat(): void {
    if (Date.now() - this.lastOk > this.ttlSec * 1000) {
      this.lose(new Error(`no keep-alive acknowledged for ${this.ttlSec} s: the lease has expired`));
      return;
    }
    if (this.inflight) return;
    this.inflight = true;
    this.lease
      .keepaliveOnce()
      .then(() => {
        this.lastOk = Date.now();
      })
      .catch(() => undefined) // retried on the next beat until the TTL has passed
      .finally(() => {
        this.inflight = false;
      });
  }

  private lose(err: Error): void {
    if (this.lost) return;
    this.lost = true;
    clearInterval(this.timer);
    this.lease.release();
    this.onLost(err);
  }

  /** Revokes the lease (its keys go at once), bounded since etcd may be gone. */
  async revoke(timeoutMs = 1000): Promise<void> {
    this.lost = true;
    clearInterval(this.timer);
    await Promise.race([this.lease.revoke().catch(() => undefined), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }

  /** Stops the keep-alives; the lease expires by its TTL. */
  release(): void {
    this.lost = true;
    clearInterval(this.timer);
    this.lease.release();
  }
}
