/**
 * The agent's own requests that etcd refuses right now, by source (the
 * list-watch, the liveness key, the port writes). Any one refused makes the
 * agent `refused`; it is `running` again only when every source has been
 * accepted since: a fixed watch grant must not hide a missing write grant.
 */
export type RefusalSource = 'watch' | 'liveness' | 'write';

export class Refusals {
  private readonly refused = new Map<RefusalSource, string>();

  constructor(private readonly report: { refused(reason: string): void; cleared(): void }) {}

  refuse(source: RefusalSource, reason: string): void {
    this.refused.set(source, reason);
    this.report.refused(reason);
  }

  accept(source: RefusalSource): void {
    if (this.refused.delete(source) && this.refused.size === 0) this.report.cleared();
  }

  /** Whether any source is refused now. */
  get any(): boolean {
    return this.refused.size > 0;
  }
}
