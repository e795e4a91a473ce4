/**
 * The replay's stand-in for etcd: one host's keys in memory, and the agent's
 * conditional writes (src/agent/etcd-writes.ts, the very transactions
 * src/daemon/etcd-writer.ts sends to etcd) applied to them. Each successful write becomes a
 * watch event with the next revision, queued for the replay to feed back to
 * the controller, so the replay sees the consequences of its own writes.
 */

import { type AgentWriteSpec, type Condition, SpecWriter, type WriteOp } from '../agent/etcd-writes';
import type { KeyEvent, StoredValue } from '../etcd/events';

export class KeySpace {
  private readonly kv = new Map<string, StoredValue>();
  /** Highest revision seen or made. */
  revision = 0;

  get(key: string): string | undefined {
    return this.kv.get(key)?.value;
  }

  entries(): Array<[string, StoredValue]> {
    return [...this.kv.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  values(): Record<string, string> {
    // Without a prototype V8 keeps the object as a hash table from the start:
    // Object.fromEntries made a hidden class per key, and no two hosts share
    // key names (about 40 us per host). Keys in sorted order, as before.
    const out = Object.create(null) as Record<string, string>;
    for (const k of [...this.kv.keys()].sort()) out[k] = this.kv.get(k)!.value;
    return out;
  }

  reset(entries: Iterable<readonly [string, StoredValue]>, revision: number): void {
    this.kv.clear();
    for (const [k, v] of entries) this.kv.set(k, v);
    this.revision = Math.max(this.revision, revision);
  }

  apply(ev: KeyEvent): void {
    if (ev.type === 'put') this.kv.set(ev.key, { value: ev.value, modRevision: ev.revision });
    else this.kv.delete(ev.key);
    this.revision = Math.max(this.revision, ev.revision);
  }
}

/** One transaction of the agent, as the replay reports it. */
export interface AgentWrite {
  readonly what: string;
  readonly events: readonly KeyEvent[];
}

export class KeySpaceWriter extends SpecWriter {
  /** Writes not yet fed back to the controller. */
  pending: KeyEvent[] = [];
  /** Every write, in order (for --step). */
  readonly log: AgentWrite[] = [];

  constructor(private readonly space: KeySpace) {
    super();
  }

  /** The first transaction whose conditions hold is committed, as etcd would; none: a line saying why. */
  protected commit(spec: AgentWriteSpec): boolean {
    const txn = spec.transactions.find((t) => t.when.every((c) => this.holds(c)));
    if (!txn) {
      const action = spec.transactions[0]!.when[0].key;
      this.log.push({ what: `${spec.label} not written: action is ${this.space.get(action) ?? 'absent'}`, events: [] });
      return false;
    }
    // etcd sends no event for the delete of a key that is not there
    const ops = txn.writes.filter((op) => op.type === 'put' || this.space.get(op.key) !== undefined);
    const text = ops.map((op) => (op.type === 'put' ? `put ${op.key} = ${op.value}` : `delete ${op.key}`)).join(', ');
    this.apply(spec.labelled ? `${spec.label}: ${text}` : text, ops);
    return true;
  }

  private holds(c: Condition): boolean {
    const value = this.space.get(c.key);
    return c.is === 'equal' ? value === c.value : value !== undefined;
  }

  /** One transaction: every key gets the same new revision, as in etcd. */
  private apply(what: string, ops: readonly WriteOp[]): void {
    const revision = this.space.revision + 1;
    // written out rather than spread: a spread of the op union took the slow generic copy, once per key written
    const events: KeyEvent[] = ops.map((op) =>
      op.type === 'put' ? { type: 'put', key: op.key, value: op.value, revision } : { type: 'delete', key: op.key, revision },
    );
    for (const ev of events) this.space.apply(ev);
    this.space.revision = revision;
    this.pending.push(...events);
    this.log.push({ what, events });
  }
}
