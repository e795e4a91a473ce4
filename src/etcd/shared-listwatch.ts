/**
 * One list-watch shared by the agents of several hosts in one process (the
 * scale runner, scripts/bench/multi-agent.ts): the shared-informer pattern.
 * Each agent's own list-watch is scoped to its host (a few watchers and a
 * snapshot read per change, src/etcd/listwatch.ts); here one watcher on the
 * whole protocol root (one range, so events come in etcd's order and are
 * applied as they come) is received once, kept in a cache, and handed to the
 * agents whose ranges hold its key. It needs read on every host's keys, so
 * it is for the scale runner only.
 *
 * An agent that subscribes late (it waits for its host lock first) gets a
 * `reset` from the cache at the revision the cache is at, then the events
 * after it: the same sequence its own list-watch would give it. A relist of
 * the shared watch (compaction, cancellation) is a `reset` for every agent.
 */

import type { Etcd3 } from 'etcd3';
import { Observable, type Subscriber, type Subscription } from 'rxjs';
import type { StoredValue } from './events';
import { inRanges, type ListWatchEvent, type ListWatchOptions, listWatch, type WatchRanges } from './listwatch';

interface Member {
  readonly wanted: (key: string) => boolean;
  readonly subscriber: Subscriber<ListWatchEvent>;
}

export class SharedListWatch {
  private readonly cache = new Map<string, StoredValue>();
  private readonly members = new Set<Member>();
  /** The revision the cache reflects; undefined until the first list. */
  private revision: number | undefined;
  private connection: { connected: boolean; reason: string } | undefined;
  private source: Subscription | undefined;

  /** `ranges` must cover every range later passed to `watch` (default: the whole protocol root). */
  constructor(
    private readonly client: Etcd3,
    private readonly ranges: WatchRanges,
    private readonly options: ListWatchOptions = {},
  ) {}

  /** The list-watch of `ranges`, served from the shared one; the shared watch starts with the first subscriber and stops with the last. */
  watch(ranges: WatchRanges): Observable<ListWatchEvent> {
    const outside = [...ranges.prefixes, ...ranges.keys].filter((r) => !inRanges(this.ranges)(r));
    if (outside.length > 0)
      throw new Error(`shared list-watch: ${outside.join(', ')} is outside its ranges (${[...this.ranges.prefixes, ...this.ranges.keys].join(', ')})`);
    const wanted = inRanges(ranges);
    return new Observable<ListWatchEvent>((subscriber) => {
      const member: Member = { wanted, subscriber };
      this.members.add(member);
      if (this.revision !== undefined) {
        subscriber.next({ type: 'reset', revision: this.revision, entries: this.entriesFor(wanted), reason: 'joined the shared list-watch' });
        if (this.connection) subscriber.next({ type: 'connection', ...this.connection });
      }
      this.source ??= listWatch(this.client, this.ranges, this.options).subscribe((ev) => this.dispatch(ev));
      return () => {
        this.members.delete(member);
        if (this.members.size === 0) this.stop();
      };
    });
  }

  /** Subscribers currently served (for tests and the runner's ready line). */
  get size(): number {
    return this.members.size;
  }

  private stop(): void {
    this.source?.unsubscribe();
    this.source = undefined;
    this.cache.clear();
    this.revision = undefined;
    this.connection = undefined;
  }

  private entriesFor(wanted: (key: string) => boolean): Array<[string, StoredValue]> {
    const out: Array<[string, StoredValue]> = [];
    for (const entry of this.cache) if (wanted(entry[0])) out.push(entry);
    return out;
  }

  private dispatch(ev: ListWatchEvent): void {
    switch (ev.type) {
      case 'reset':
        this.cache.clear();
        for (const [key, value] of ev.entries) this.cache.set(key, value);
        this.revision = ev.revision;
        for (const m of this.members) m.subscriber.next({ ...ev, entries: this.entriesFor(m.wanted) });
        return;
      case 'connection':
        this.connection = { connected: ev.connected, reason: ev.reason };
        for (const m of this.members) m.subscriber.next(ev);
        return;
      default:
        if (ev.type === 'put') this.cache.set(ev.key, { value: ev.value, modRevision: ev.revision });
        else this.cache.delete(ev.key);
        this.revision = Math.max(this.revision ?? 0, ev.revision);
        for (const m of this.members) if (m.wanted(ev.key)) m.subscriber.next(ev);
    }
  }
}
