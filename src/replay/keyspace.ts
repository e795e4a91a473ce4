/**
 * The replay's stand-in for etcd: one host's keys in memory, and the agent's
 * conditional writes applied to them with the same guards as the etcd3
 * transactions of src/agent/etcd-writer.ts. Each successful write becomes a
 * watch event with the next revision, queued for the replay to feed back to
 * the controller, so the replay sees the consequences of its own writes.
 */
import type { KeyEvent, StoredValue } from '../etcd/events';
import type { EtcdWriter, PortStatusWrite } from '../agent/io';
import { FREE_VHOST } from '../protocol/codecs';
import { keys } from '../protocol/keys';

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

export class KeySpaceWriter implements EtcdWriter {
  /** Writes not yet fed back to the controller. */
  pending: KeyEvent[] = [];
  /** Every write, in order (for --step). */
  readonly log: AgentWrite[] = [];

  constructor(private readonly space: KeySpace) {}

  async putPortStatus(w: PortStatusWrite): Promise<boolean> {
    const action = this.space.get(keys.action(w.host, w.portId));
    const holds = w.whileAction === 'plug' ? action === 'plug' : action !== undefined;
    if (!holds) {
      this.log.push({ what: `port_status ${JSON.stringify(w.value)} not written: action is ${action ?? 'absent'}`, events: [] });
      return false;
    }
    const key = keys.portStatus(w.host, w.portId);
    this.commit(`put ${key} = ${w.value}`, [{ type: 'put', key, value: w.value }]);
    return true;
  }

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean> {
    const action = keys.action(host, portId);
    if (this.space.get(action) !== 'unplug') {
      this.log.push({ what: `unplug cleanup of ${portId} not written: action is ${this.space.get(action) ?? 'absent'}`, events: [] });
      return false;
    }
    const ops: Array<{ type: 'put'; key: string; value: string } | { type: 'delete'; key: string }> = [];
    if (vhostKey !== undefined && this.space.get(vhostKey) === portId) ops.push({ type: 'put', key: vhostKey, value: FREE_VHOST });
    for (const key of [keys.bindPort(host, portId), action, keys.portStatus(host, portId)]) {
      if (this.space.get(key) !== undefined) ops.push({ type: 'delete', key });
    }
    this.commit(`unplug cleanup of ${portId}: ${ops.map((op) => (op.type === 'put' ? `put ${op.key} = ${op.value}` : `delete ${op.key}`)).join(', ')}`, ops);
    return true;
  }

  /** One transaction: every key gets the same new revision, as in etcd. */
  private commit(what: string, ops: ReadonlyArray<{ type: 'put'; key: string; value: string } | { type: 'delete'; key: string }>): void {
    const revision = this.space.revision + 1;
    const events: KeyEvent[] = ops.map((op) => (op.type === 'put' ? { ...op, revision } : { ...op, revision }));
    for (const ev of events) this.space.apply(ev);
    this.space.revision = revision;
    this.pending.push(...events);
    this.log.push({ what, events });
  }
}
