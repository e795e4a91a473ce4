/**
 * client-go's informer pattern over etcd3, as an RxJS stream, scoped to a
 * set of key ranges (one host's): list them at one revision, watch each from
 * the next revision; on compaction (or any watch cancellation) list again.
 * Consumers get `reset` (replace your cache), `put`/`delete` events and
 * connection state changes.
 *
 * etcd orders events within one watcher only, and a host's keys live under
 * several prefixes, so per-range watchers catching up can deliver a later
 * `action` before the earlier `bind_port` of the same port, or half of a
 * multi-key transaction. With more than one range the watches are therefore
 * only triggers: each trigger reads every range at ONE revision (one etcd
 * Txn of range requests, which etcd executes atomically), and the difference
 * to the last snapshot is emitted synchronously, as one batch at that
 * revision. Watch events at or below the last snapshot's revision are
 * already in it and are dropped. Every state a consumer sees is thus a real
 * etcd snapshot (docs/architecture.md, "Host-scoped list-watch").
 *
 * A trigger's read asks only for the keys changed since the last snapshot
 * (etcd's min_mod_revision) and each range's count of keys: the count shows
 * whether, and how many, unchanged keys were deleted; which ones the
 * watchers' delete events name, or else one full read tells. Decoding every
 * key of the host on every trigger grew with the host.
 *
 * A request etcd refuses for a reason retrying cannot fix (permission
 * denied, authentication failed) is reported as `refused`, naming the range
 * and the user, and retried with a long capped backoff, never in a hot loop.
 */

import type { Etcd3 } from 'etcd3';
import { Observable } from 'rxjs';
import { backoffMs } from '../protocol/retry';
import type { KeyEvent, StoredValue } from './events';
import { describeUser, isRefusal } from './refusal';
import { type CancellableWatch, cancellable } from './watch-cancel';

export interface WatchRanges {
  readonly prefixes: readonly string[];
  readonly keys: readonly string[];
}

export type ListWatchEvent =
  | { readonly type: 'reset'; readonly revision: number; readonly entries: ReadonlyArray<[string, StoredValue]>; readonly reason: string }
  | KeyEvent
  /** `refused`: etcd refused a request for a reason retrying will not fix (the reason names the range and the user). */
  | { readonly type: 'connection'; readonly connected: boolean; readonly reason: string; readonly refused?: true };

export interface ListWatchOptions {
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Backoff after a refused request (default 1 s doubling to 30 s): an operator has to grant the role first. */
  readonly refusedBaseMs?: number;
  readonly refusedMaxMs?: number;
  /** The etcd user the client logs in as, for the refusal message. */
  readonly user?: string;
  /**
   * From outside (the agent's grant probe, src/daemon/grant-probe.ts): `refused`
   * stops the watchers and reports the refusal now, not at the next read;
   * `retry` ends a refusal's backoff at once (the grant is back).
   */
  readonly nudges?: Observable<ListWatchNudge>;
  /** Each watcher's events as they arrive, before any snapshot read: the bench's plug trace times that read with it. */
  readonly onWatchEvents?: (events: readonly KeyEvent[]) => void;
  /** Each read a trigger made: of the changed keys only (`delta`) or of every key (`full`), and the keys it returned. */
  readonly onTriggerRead?: (read: { readonly kind: 'delta' | 'full'; readonly keys: number }) => void;
}

export type ListWatchNudge = { readonly type: 'refused'; readonly reason: string } | { readonly type: 'retry' };

/** Whether `key` lies in `ranges`: one of its keys or under one of its prefixes. */
export function inRanges(ranges: WatchRanges): (key: string) => boolean {
  return (key) => ranges.keys.includes(key) || ranges.prefixes.some((p) => key.startsWith(p));
}

/** One range: a prefix or an exact key. */
type Range = { readonly prefix: string } | { readonly key: string };

const rangeName = (r: Range): string => ('prefix' in r ? `${r.prefix} (prefix)` : r.key);

class Refused extends Error {}

export function listWatch(client: Etcd3, ranges: WatchRanges, options: ListWatchOptions = {}): Observable<ListWatchEvent> {
  const all: Range[] = [...ranges.prefixes.map((prefix) => ({ prefix })), ...ranges.keys.map((key) => ({ key }))];
  if (all.length === 0) throw new Error('listWatch needs at least one prefix or key');
  // One watcher keeps etcd's order, so its events are applied as they come; several are triggers only.
  const single = all.length === 1;
  // a key in two ranges would be counted twice: such ranges are read whole on every trigger
  const deltaReads = disjoint(all);
  const user = describeUser(options.user);
  return new Observable<ListWatchEvent>((subscriber) => {
    let closed = false;
    let watchers: CancellableWatch[] = [];
    let attempt = 0;
    /** The last restart was a refusal: a watcher connecting does not prove the grants are there yet. */
    let lastRefused = false;
    let timer: NodeJS.Timeout | undefined;
    let readTimer: NodeJS.Timeout | undefined;
    let connected: boolean | undefined;
    let lastReason = '';
    /** The snapshot last emitted, and its revision: the last revision applied. */
    let cache = new Map<string, StoredValue>();
    let applied = 0;
    /** Keys the watchers reported deleted after `applied` (by revision): which keys a read's count says are gone. */
    let deletesSeen = new Map<string, number>();
    /** A snapshot read is in flight; `wanted`: the highest revision a watcher reported, read until the snapshot covers it. */
    let reading = false;
    let wanted = 0;
    /** Bumped by every (re)start, so that a stale watcher or read of an earlier generation does nothing. */
    let generation = 0;

    const setConnected = (value: boolean, reason: string, refused = false): void => {
      // a new cause of being disconnected is news (each failed relist is told, at the backoff's pace)
      if (connected === value && !refused && (value || reason === lastReason)) return;
      connected = value;
      lastReason = reason;
      subscriber.next({ type: 'connection', connected: value, reason, ...(refused ? { refused: true as const } : {}) });
    };

    const teardown = async (): Promise<void> => {
      const old = watchers;
      watchers = [];
      await Promise.allSettled(old.map((w) => w.cancel()));
    };

    const restart = (reason: string, refused = false): void => {
      if (closed || timer) return;
      generation += 1;
      deletesSeen = new Map();
      lastRefused = refused;
      reading = false;
      if (readTimer) clearTimeout(readTimer);
      readTimer = undefined;
      setConnected(false, reason, refused);
      void teardown();
      attempt += 1;
      const delay = refused
        ? backoffMs(attempt, options.refusedBaseMs ?? 1000, options.refusedMaxMs ?? 30_000)
        : backoffMs(attempt, options.backoffBaseMs ?? 200, options.backoffMaxMs ?? 5000);
      timer = setTimeout(() => {
        timer = undefined;
        void run(`relist after: ${reason}`);
      }, delay);
    };

    const fail = (err: unknown, what: string): void => {
      if (err instanceof Refused || isRefusal(err)) restart((err as Error).message, true);
      else restart(`${what} failed: ${(err as Error).message}`);
    };

    /** A read of every range at one revision; a refusal names the ranges refused. */
    const named = async <T>(read: Promise<T>): Promise<T> => {
      try {
        return await read;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        throw new Refused(await explainRefusal(client, all, user, err as Error));
      }
    };
    const snapshot = (): Promise<{ revision: number; kvs: Map<string, StoredValue> }> => named(readAtOneRevision(client, all));

    /**
     * The keys the cache holds that are gone at the read's revision, or
     * undefined when the count and the deletes seen do not tell which. The
     * keys at R are the changed ones plus the cached ones unchanged since
     * `applied` (a key at R not modified since was in the cache), so
     * count - changed of the cached unchanged keys are still there.
     */
    const deletedAt = (read: ChangedSince): string[] | undefined => {
      let cachedChanged = 0;
      for (const key of read.changed.keys()) if (cache.has(key)) cachedChanged += 1;
      const gone = cache.size - cachedChanged - (read.count - read.changed.size);
      if (gone === 0) return [];
      const reported = [...deletesSeen].filter(([key, rev]) => rev <= read.revision && cache.has(key) && !read.changed.has(key)).map(([key]) => key);
      return reported.length === gone ? reported : undefined;
    };

    /** Applies a delta read: the changed keys (in revision order), then the deleted ones, as one batch at its revision. */
    const emitDelta = (changed: Map<string, StoredValue>, deleted: readonly string[], revision: number): void => {
      const changes: KeyEvent[] = [];
      for (const [key, v] of changed) changes.push({ type: 'put', key, value: v.value, revision: v.modRevision });
      changes.sort((a, b) => a.revision - b.revision);
      for (const key of deleted) changes.push({ type: 'delete', key, revision });
      for (const ev of changes) {
        if (ev.type === 'put') cache.set(ev.key, { value: ev.value, modRevision: ev.revision });
        else cache.delete(ev.key);
      }
      applied = revision;
      for (const [key, rev] of deletesSeen) if (rev <= revision) deletesSeen.delete(key);
      for (const ev of changes) subscriber.next(ev);
    };

    /** Emits the difference between the cache and `next`, synchronously: one batch, applied together. */
    const emitDiff = (next: Map<string, StoredValue>, revision: number): void => {
      const changes: KeyEvent[] = [];
      for (const [key, v] of next) {
        const old = cache.get(key);
        if (!old || old.modRevision !== v.modRevision) changes.push({ type: 'put', key, value: v.value, revision: v.modRevision });
      }
      // in revision order (a delete's own revision is not in the snapshot: it happened by `revision`), so logs and records read forward
      changes.sort((a, b) => a.revision - b.revision);
      for (const key of cache.keys()) if (!next.has(key)) changes.push({ type: 'delete', key, revision });
      cache = next;
      applied = revision;
      for (const [key, rev] of deletesSeen) if (rev <= revision) deletesSeen.delete(key);
      for (const ev of changes) subscriber.next(ev);
    };

    // Coalesced: while a read is in flight, later events only raise `wanted`;
    // one more read follows only if they are newer than the read's revision.
    // A read that fails for a passing reason (etcd unreachable) is retried
    // with backoff and the watchers are kept: they resume after `applied`
    // on their own, and a compaction still cancels them into a relist.
    const trigger = (gen: number, revision: number): void => {
      wanted = Math.max(wanted, revision);
      if (reading) return;
      reading = true;
      let failures = 0;
      const read = async (): Promise<void> => {
        try {
          while (wanted > applied) {
            if (deltaReads) {
              const delta = await named(readChangedSince(client, all, applied));
              if (gen !== generation || closed) return;
              options.onTriggerRead?.({ kind: 'delta', keys: delta.changed.size });
              // a linearizable read is at or after every event already delivered; an older answer would only repeat the past
              if (delta.revision <= applied) break;
              const deleted = deletedAt(delta);
              if (deleted) {
                emitDelta(delta.changed, deleted, delta.revision);
                continue;
              }
            }
            // ranges that overlap, or cached keys gone that no watcher has reported yet: a full read shows which
            const snap = await snapshot();
            if (gen !== generation || closed) return;
            options.onTriggerRead?.({ kind: 'full', keys: snap.kvs.size });
            if (snap.revision <= applied) break;
            emitDiff(snap.kvs, snap.revision);
          }
          reading = false;
          if (failures > 0) setConnected(true, "read the host's keys again");
        } catch (err) {
          if (gen !== generation || closed) return;
          if (err instanceof Refused || isRefusal(err)) return fail(err, 'read');
          failures += 1;
          setConnected(false, `read of the host's keys failed: ${(err as Error).message}`);
          readTimer = setTimeout(
            () => {
              readTimer = undefined;
              if (gen === generation && !closed) void read();
            },
            backoffMs(failures, options.backoffBaseMs ?? 200, options.backoffMaxMs ?? 5000),
          );
        }
      };
      void read();
    };

    const onEvents = (gen: number, events: KeyEvent[]): void => {
      if (gen !== generation) return;
      options.onWatchEvents?.(events);
      attempt = 0;
      lastRefused = false;
      const fresh = events.filter((ev) => ev.revision > applied);
      if (fresh.length === 0) return;
      if (!single) {
        for (const ev of fresh) if (ev.type === 'delete') deletesSeen.set(ev.key, Math.max(ev.revision, deletesSeen.get(ev.key) ?? 0));
        trigger(gen, Math.max(...fresh.map((ev) => ev.revision)));
        return;
      }
      for (const ev of fresh) {
        if (ev.type === 'put') cache.set(ev.key, { value: ev.value, modRevision: ev.revision });
        else cache.delete(ev.key);
        applied = Math.max(applied, ev.revision);
        subscriber.next(ev);
      }
    };

    const run = async (reason: string): Promise<void> => {
      const gen = generation;
      try {
        const snap = await snapshot();
        if (closed || gen !== generation) return;
        cache = snap.kvs;
        applied = snap.revision;
        subscriber.next({ type: 'reset', revision: snap.revision, entries: [...snap.kvs], reason });
        for (const range of all) {
          const w = startWatcher(
            client,
            range,
            () => applied,
            (events) => onEvents(gen, events),
            {
              onConnected: () => {
                if (gen !== generation) return;
                if (!lastRefused) attempt = 0;
                setConnected(true, 'watching');
              },
              onDisconnected: (why) => gen === generation && setConnected(false, why),
              onFatal: (err) => {
                if (gen !== generation) return;
                if (isRefusal(err)) restart(`${user} may not watch ${rangeName(range)}: ${err.message}`, true);
                else void explainCancel(client, range, applied + 1, err).then((why) => gen === generation && restart(why));
              },
            },
          );
          if (closed) {
            await w.cancel();
            return;
          }
          watchers.push(w);
        }
        setConnected(true, 'listed and watching');
      } catch (err) {
        if (gen === generation) fail(err, 'list');
      }
    };

    const nudged = options.nudges?.subscribe((n) => {
      if (n.type === 'refused') restart(n.reason, true);
      else if (timer && lastRefused) {
        clearTimeout(timer);
        timer = undefined;
        void run('relist after: the grant is back');
      }
    });
    void run('start');
    return () => {
      closed = true;
      nudged?.unsubscribe();
      if (timer) clearTimeout(timer);
      if (readTimer) clearTimeout(readTimer);
      void teardown();
    };
  });
}

/** The first key after every key starting with `prefix` (etcd's range_end for a prefix). */
function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

const rangeRequest = (r: Range): { key: Buffer; range_end?: Buffer } =>
  'prefix' in r ? { key: Buffer.from(r.prefix), range_end: prefixEnd(r.prefix) } : { key: Buffer.from(r.key) };

/** Every range in one Txn: etcd executes it at one revision, so the result is a real snapshot. */
async function readAtOneRevision(client: Etcd3, ranges: readonly Range[]): Promise<{ revision: number; kvs: Map<string, StoredValue> }> {
  const res = await client.kv.txn({ compare: [], success: ranges.map((r) => ({ request_range: rangeRequest(r) })), failure: [] });
  const kvs = new Map<string, StoredValue>();
  for (const op of res.responses) {
    for (const kv of op.response_range?.kvs ?? []) kvs.set(kv.key.toString(), { value: kv.value.toString(), modRevision: Number(kv.mod_revision) });
  }
  return { revision: Number(res.header.revision), kvs };
}

/** No key lies in two of the ranges. */
function disjoint(ranges: readonly Range[]): boolean {
  const covers = (a: Range, b: Range): boolean => ('prefix' in a ? ('prefix' in b ? b.prefix : b.key).startsWith(a.prefix) : 'key' in b && a.key === b.key);
  return ranges.every((a, i) => ranges.every((b, j) => i === j || !covers(a, b)));
}

/** What changed in the ranges since a revision, read at one revision: the keys put since, and how many keys the ranges hold. */
interface ChangedSince {
  readonly revision: number;
  readonly changed: Map<string, StoredValue>;
  /** Every key of the ranges at `revision`, changed or not (etcd counts before the min_mod_revision filter). */
  readonly count: number;
}

/** One Txn, so one revision: each range's keys modified after `since`, and its count of keys. */
async function readChangedSince(client: Etcd3, ranges: readonly Range[], since: number): Promise<ChangedSince> {
  const min = String(since + 1);
  const res = await client.kv.txn({ compare: [], success: ranges.map((r) => ({ request_range: { ...rangeRequest(r), min_mod_revision: min } })), failure: [] });
  const changed = new Map<string, StoredValue>();
  let count = 0;
  for (const op of res.responses) {
    count += Number(op.response_range?.count ?? 0);
    for (const kv of op.response_range?.kvs ?? []) changed.set(kv.key.toString(), { value: kv.value.toString(), modRevision: Number(kv.mod_revision) });
  }
  return { revision: Number(res.header.revision), changed, count };
}

/** The keys of `ranges` exactly as they were at one revision (one Txn): what a list-watch's reset holds. */
export function readRanges(client: Etcd3, ranges: WatchRanges): Promise<{ revision: number; kvs: Map<string, StoredValue> }> {
  return readAtOneRevision(client, [...ranges.prefixes.map((prefix) => ({ prefix })), ...ranges.keys.map((key) => ({ key }))]);
}

/** Which of the host's ranges the user may not read, as the list-watch reports it (after a refusal). */
export function explainRefusedRead(client: Etcd3, ranges: WatchRanges, user: string | undefined, err: Error): Promise<string> {
  return explainRefusal(client, [...ranges.prefixes.map((prefix) => ({ prefix })), ...ranges.keys.map((key) => ({ key }))], describeUser(user), err);
}

/** Which of `ranges` the user may not read (one read each, only after a refusal), as a message for the operator. */
async function explainRefusal(client: Etcd3, ranges: readonly Range[], user: string, err: Error): Promise<string> {
  if (!/permission denied/.test(err.message)) return `etcd refused ${user}: ${err.message}`;
  const denied: string[] = [];
  for (const r of ranges) {
    try {
      await client.kv.range({ ...rangeRequest(r), count_only: true });
    } catch (probe) {
      if (!isRefusal(probe)) throw probe;
      denied.push(rangeName(r));
    }
  }
  const what = denied.length > 0 ? denied.join(', ') : ranges.map(rangeName).join(', ');
  return `etcd refused ${user} read of ${what}: ${err.message} (grant the host's role read on it: \`spp etcd roles --host\` prints the grants)`;
}

interface WatcherHooks {
  onConnected(): void;
  onDisconnected(reason: string): void;
  onFatal(err: Error): void;
}

function startWatcher(client: Etcd3, range: Range, applied: () => number, onEvents: (events: KeyEvent[]) => void, hooks: WatcherHooks): CancellableWatch {
  const builder = 'prefix' in range ? client.watch().prefix(range.prefix) : client.watch().key(range.key);
  const watcher = builder.startRevision(String(applied() + 1)).watcher();
  const watch = cancellable(watcher);
  // etcd3 resumes a reconnecting watcher from the header revision of its
  // last response, which can skip events not yet delivered (a catching-up
  // watcher's header is the current revision); resume after the last
  // revision applied instead: anything later is a trigger.
  watcher.on('connecting', (req) => {
    (req as { start_revision?: string }).start_revision = String(applied() + 1);
  });
  watcher.on('connected', () => hooks.onConnected());
  watcher.on('disconnected', (err: Error) => hooks.onDisconnected(`etcd watch disconnected: ${err.message}`));
  watcher.on('error', (err: Error) => hooks.onFatal(err));
  watcher.on('data', (res) => {
    if (res.events.length === 0) return;
    onEvents(
      res.events.map((ev): KeyEvent => {
        const revision = Number(ev.kv.mod_revision);
        const key = ev.kv.key.toString();
        return ev.type === 'Delete' ? { type: 'delete', key, revision } : { type: 'put', key, value: ev.kv.value.toString(), revision };
      }),
    );
  });
  return watch;
}

/**
 * etcd cancels a watch whose start revision was compacted with an empty
 * cancel reason (the compact revision is in a field etcd3 does not pass on):
 * a read at that revision tells whether compaction was the cause.
 */
async function explainCancel(client: Etcd3, range: Range, revision: number, err: Error): Promise<string> {
  try {
    // the watched range itself: a host-scoped user may read nothing else
    await client
      .get('prefix' in range ? range.prefix : range.key)
      .revision(revision)
      .exec();
  } catch (probe) {
    const message = (probe as Error).message;
    if (/compacted/.test(message)) return `etcd watch cancelled: revision ${revision} was compacted (${message})`;
  }
  return `etcd watch cancelled (${err.message})`;
}
