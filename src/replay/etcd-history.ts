/**
 * etcd's own revision history as a replay input: the keys as of revision
 * R-1, then every change from R on (one watch with start revision R, which
 * etcd answers from its MVCC history, deletes and whole transactions
 * included), up to R2 or the head; optionally on after the head (--follow).
 * R defaults to the oldest revision etcd still holds.
 */
import type { Etcd3 } from 'etcd3';
import { type CancellableWatch, cancellable } from '../etcd/watch-cancel';
import { hostKeyRanges, ROOT } from '../protocol/keys';
import { type HistoryEvent, InputError, type ReplayInput, type SnapshotKv } from './input';

export interface HistoryRequest {
  /** Only this host's key ranges (default: all of /spp/openstack/). */
  readonly host?: string;
  /** First revision replayed as an event (default: the oldest etcd holds). */
  readonly fromRevision?: number;
  /** Start from the keys as they are now (fromRevision: head + 1). */
  readonly atHead?: boolean;
  /** Last revision replayed (default: the head when the read starts). */
  readonly toRevision?: number;
  /** Named in the report (e.g. the endpoints, or the backup file). */
  readonly source: string;
  readonly format?: Extract<ReplayInput, { kind: 'history' }>['format'];
  /** Keep watching after the head (HistoryRead.follow). */
  readonly follow?: boolean;
}

export interface HistoryRead {
  readonly input: Extract<ReplayInput, { kind: 'history' }>;
  /** etcd's revision when the read started. */
  readonly head: number;
  /** The compact revision (0: nothing compacted): history starts after it. */
  readonly compacted: number;
  /**
   * With request.follow: every change after the history, batch by batch as
   * etcd sends them (those that came meanwhile first); onError when the watch fails.
   */
  follow(onEvents: (events: readonly HistoryEvent[]) => void, onError: (err: Error) => void): void;
  /** Stops following (a no-op when not following). */
  close(): Promise<void>;
}

/** How long the watch must stay quiet, once the keys match the target revision, before the history counts as read (etcd syncs a catching-up watcher every 100 ms). */
const QUIET_MS = 300;
/** Revisions per watcher: etcd's batch for a catching-up watcher (watchBatchMaxRevs). */
const WINDOW_REVISIONS = 1000;
/** Watchers at once; etcd syncs up to 512 per round. */
const PARALLEL_WINDOWS = 16;

interface Ranges {
  readonly prefixes: readonly string[];
  readonly keys: readonly string[];
}

function rangesOf(host: string | undefined): Ranges {
  if (host === undefined) return { prefixes: [ROOT], keys: [] };
  const r = hostKeyRanges(host);
  return { prefixes: r.prefixes, keys: r.exact };
}

function wanted(r: Ranges, key: string): boolean {
  return r.keys.includes(key) || r.prefixes.some((p) => key.startsWith(p));
}

const isCompacted = (err: unknown): boolean => /compacted/.test((err as Error).message);

/** The compact revision: 0 when revision 1 can still be read, else the oldest readable revision (found by bisection: etcd names it in no answer etcd3 passes on). */
export async function compactRevision(client: Etcd3, head: number): Promise<number> {
  const readable = async (rev: number): Promise<boolean> => {
    try {
      await client.get(ROOT).revision(rev).exec();
      return true;
    } catch (err) {
      if (isCompacted(err)) return false;
      throw err;
    }
  };
  if (head <= 1 || (await readable(1))) return 0;
  let lo = 1; // not readable
  let hi = head; // readable
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await readable(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** The keys of `ranges` at `revision`, with their mod revisions, in key order. */
async function keysAt(client: Etcd3, ranges: Ranges, revision: number): Promise<SnapshotKv[]> {
  if (revision < 1) return [];
  const out: SnapshotKv[] = [];
  const take = (res: { kvs?: Array<{ key: Buffer; value: Buffer; mod_revision: unknown }> }): void => {
    for (const kv of res.kvs ?? []) out.push({ key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision) });
  };
  for (const p of ranges.prefixes) take(await client.getAll().prefix(p).revision(revision).exec());
  for (const k of ranges.keys) take(await client.get(k).revision(revision).exec());
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function sameKeys(state: ReadonlyMap<string, SnapshotKv>, kvs: readonly SnapshotKv[]): boolean {
  if (state.size !== kvs.length) return false;
  return kvs.every((kv) => {
    const s = state.get(kv.key);
    return s !== undefined && s.value === kv.value && s.modRevision === kv.modRevision;
  });
}

function commonPrefix(r: Ranges): string {
  const all = [...r.prefixes, ...r.keys];
  let prefix = all[0]!;
  for (const s of all) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix[i] === s[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

export function compactedMessage(from: number, compacted: number): string {
  return (
    `revision ${from} is compacted: etcd keeps history only after its compact revision ${compacted}, so the oldest revision it can replay is ${compacted + 1}. ` +
    `Use --from-revision ${compacted + 1} or later, or leave --from-revision out to start at the oldest revision etcd holds; ` +
    'for older history, replay a backup taken before the compaction (spp replay backup.db).'
  );
}

export async function readHistory(client: Etcd3, req: HistoryRequest): Promise<HistoryRead> {
  const ranges = rangesOf(req.host);
  const head = Number((await client.get(ROOT).exec()).header.revision);
  const compacted = await compactRevision(client, head);
  const from = req.atHead ? head + 1 : (req.fromRevision ?? compacted + 1);
  if (from <= compacted) throw new InputError(compactedMessage(from, compacted));
  if (from > head + 1 && !req.follow)
    throw new InputError(`--from-revision ${from} is after etcd's current revision ${head}: there is no history there yet (--follow waits for it)`);
  const to = Math.min(req.toRevision ?? head, head);
  if (req.toRevision !== undefined && req.toRevision < from) throw new InputError(`--to-revision ${req.toRevision} is before --from-revision ${from}`);
  const listRevision = Math.min(from - 1, head);
  let kvs: SnapshotKv[];
  try {
    kvs = await keysAt(client, ranges, listRevision);
  } catch (err) {
    if (isCompacted(err)) throw new InputError(compactedMessage(from, await compactRevision(client, head)));
    throw err;
  }
  // etcd sends a catching-up watcher about 1,000 revisions per 100 ms: successive windows, each with its own watcher, arrive together
  const windows: Array<{ start: number; end: number }> = [];
  for (let start = from; start <= to; start += WINDOW_REVISIONS) windows.push({ start, end: Math.min(start + WINDOW_REVISIONS - 1, to) });
  const bounds = [kvs, ...(await Promise.all(windows.map((w) => keysAt(client, ranges, w.end))))];
  const sink = new FollowSink();
  const parts: HistoryEvent[][] = new Array<HistoryEvent[]>(windows.length);
  let watcher: CancellableWatch | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < windows.length; i = next++) {
      const last = i === windows.length - 1;
      const w = await watchWindow(client, ranges, windows[i]!.start, windows[i]!.end, bounds[i]!, bounds[i + 1]!, last && req.follow ? sink : undefined);
      parts[i] = w.events;
      if (w.watcher) watcher = w.watcher;
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_WINDOWS, windows.length) }, worker));
  // nothing to read up to the head: following starts at `from`
  if (windows.length === 0 && req.follow) watcher = (await watchWindow(client, ranges, from, from - 1, kvs, kvs, sink)).watcher;
  return {
    input: { kind: 'history', source: req.source, format: req.format ?? 'etcd-history', listRevision, kvs, events: parts.flat() },
    head,
    compacted,
    follow: (onEvents, onError) => sink.attach(onEvents, onError),
    async close() {
      sink.detach();
      await watcher?.cancel();
    },
  };
}

/** Batches after the history wait here until HistoryRead.follow() takes them. */
class FollowSink {
  private later: HistoryEvent[][] = [];
  private failed: Error | undefined;
  private onEvents: ((events: readonly HistoryEvent[]) => void) | undefined;
  private onError: ((err: Error) => void) | undefined;

  events(batch: HistoryEvent[]): void {
    if (this.onEvents) this.onEvents(batch);
    else this.later.push(batch);
  }

  error(err: Error): void {
    if (this.onError) this.onError(err);
    else this.failed = err;
  }

  attach(onEvents: (events: readonly HistoryEvent[]) => void, onError: (err: Error) => void): void {
    this.onEvents = onEvents;
    this.onError = onError;
    for (const batch of this.later) onEvents(batch);
    this.later = [];
    if (this.failed) onError(this.failed);
  }

  detach(): void {
    this.onEvents = undefined;
    this.onError = undefined;
  }
}

/**
 * The events of revisions start..end, from one watch with start revision
 * `start` over keys that were `initial` at start - 1 and are `target` at
 * `end`. The watch is cancelled once the window is read, unless `follow`
 * takes what comes after it.
 */
async function watchWindow(
  client: Etcd3,
  ranges: Ranges,
  start: number,
  end: number,
  initial: readonly SnapshotKv[],
  target: readonly SnapshotKv[],
  follow: FollowSink | undefined,
): Promise<{ events: HistoryEvent[]; watcher?: CancellableWatch }> {
  const state = new Map(initial.map((kv) => [kv.key, kv]));
  const events: HistoryEvent[] = [];
  let watcher: CancellableWatch | undefined;
  await new Promise<void>((resolve, reject) => {
    let done = start > end;
    let quiet: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(quiet);
      resolve();
    };
    // the watch says nothing when the last revision changed keys elsewhere: the keys matching it, and a quiet watch, end the window
    const check = (): void => {
      clearTimeout(quiet);
      if (done || !sameKeys(state, target)) return;
      quiet = setTimeout(finish, QUIET_MS);
    };
    if (done) resolve();
    if (done && !follow) return;
    const w = client.watch().prefix(commonPrefix(ranges)).startRevision(String(start)).watcher();
    watcher = cancellable(w);
    w.on('connected', check);
    w.on('error', (err: Error) => {
      const why = isCompacted(err) ? new InputError(`etcd cancelled the watch from revision ${start}: ${err.message}`) : err;
      if (!done) {
        done = true;
        clearTimeout(quiet);
        reject(why);
      } else follow?.error(why);
    });
    w.on('data', (res) => {
      const after: HistoryEvent[] = [];
      for (const e of res.events) {
        const key = e.kv.key.toString();
        if (!wanted(ranges, key)) continue;
        const revision = Number(e.kv.mod_revision);
        const ev: HistoryEvent = e.type === 'Delete' ? { type: 'delete', key, revision } : { type: 'put', key, value: e.kv.value.toString(), revision };
        if (!done && revision <= end) {
          events.push(ev);
          if (ev.type === 'put') state.set(key, { key, value: ev.value, modRevision: revision });
          else state.delete(key);
        } else after.push(ev);
      }
      if (!done && (after.length > 0 || events[events.length - 1]?.revision === end)) finish();
      if (!done) check();
      if (after.length > 0 && follow) follow.events(after);
    });
  }).catch(async (err: unknown) => {
    await watcher?.cancel();
    throw err;
  });
  if (watcher && !follow) {
    await watcher.cancel();
    watcher = undefined;
  }
  return { events, ...(watcher ? { watcher } : {}) };
}
