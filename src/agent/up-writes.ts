/**
 * When `port_status = up` is put, and put again, for one bind of a port.
 * The reasoning (the original driver's late watch) is in docs/protocol.md,
 * "How often `up` is written"; these are its decisions, without I/O.
 */
import type { StoredValue } from '../etcd/events';

/** A bind of a port: the newer of its bind_port and action puts. A new put of either is a new bind. */
export function bindRevision(bindPort: StoredValue | undefined, action: StoredValue | undefined): number {
  return Math.max(bindPort?.modRevision ?? 0, action?.modRevision ?? 0);
}

/** port_status holds `up` put after the bind's last put: written for this bind, not left from an earlier one. */
export function upForBind(status: StoredValue | undefined, bind: number): boolean {
  return status?.value === 'up' && status.modRevision > bind;
}

/** What this process knows of the `up` puts of a port's current bind. */
export interface UpRecord {
  readonly bind: number;
  /**
   * This process made the bind's first `up` put ('put'), or found `up`
   * already there when it plugged (a restart: 'found', at `foundAt`).
   */
  readonly first: 'put' | 'found';
  /** The `up` port_status revision found ('found' only). */
  readonly foundAt?: number;
  /** Re-asserts made (or decided unneeded) for this bind. */
  reasserts: number;
}

export type ReassertDecision =
  /** Put `up` again. */
  | { readonly kind: 'write' }
  /** Nothing to put: the reason, for the debug log. */
  | { readonly kind: 'skip'; readonly reason: string }
  /** `up` was found at a restart: put again unless its put before `foundAt` was an `up` of this bind too. */
  | { readonly kind: 'check-history'; readonly foundAt: number; readonly bind: number };

/**
 * At a re-assert timer. `scheduled` is how many re-asserts the schedule has
 * (the default one): a bind whose first `up` this process put gets that many,
 * one found at a restart gets at most one, and only when the key's history
 * does not already show a re-assert.
 */
export function reassertDecision(record: UpRecord | undefined, currentBind: number, scheduled: number): ReassertDecision {
  if (!record) return { kind: 'skip', reason: 'no up put or found by this process' };
  if (record.bind !== currentBind) return { kind: 'skip', reason: 'a newer bind_port or action since; its own plug puts up' };
  const allowed = record.first === 'put' ? scheduled : Math.min(1, scheduled);
  if (record.reasserts >= allowed) return { kind: 'skip', reason: 'already re-asserted for this bind' };
  if (record.first === 'found' && record.foundAt !== undefined) return { kind: 'check-history', foundAt: record.foundAt, bind: record.bind };
  return { kind: 'write' };
}

/**
 * The put of port_status just before the found `up` (undefined: none, the
 * key was created by it). A re-assert was made already when that put was an
 * `up` of the same bind too: of two `up` puts of one bind the later is a
 * re-assert, made a whole re-assert delay after the agent saw the bind.
 */
export function historyShowsReassert(previous: StoredValue | undefined, bind: number): boolean {
  return upForBind(previous, bind);
}
