/**
 * client-go's informer pattern over etcd3, as an RxJS stream: list the
 * ranges at one revision, then watch them (one watcher on their common
 * prefix, so events keep etcd's revision order) from the next revision; on a
 * reconnect resume from the last revision seen, and on compaction (or any
 * watch cancellation) list again. Consumers get `reset` (replace your
 * cache), `put`/`delete` events and connection state changes.
 */
import { Observable } from 'rxjs';
import type { Etcd3, Watcher } from 'etcd3';
import type { KeyEvent, StoredValue } from '../agent/host-state';
import { backoffMs } from '../../machines/errors';

export interface WatchRanges {
  readonly prefixes: readonly string[];
  readonly keys: readonly string[];
}

export type ListWatchEvent =
  | { readonly type: 'reset'; readonly revision: number; readonly entries: ReadonlyArray<[string, StoredValue]>; readonly reason: string }
  | KeyEvent
  | { readonly type: 'connection'; readonly connected: boolean; readonly reason: string };

export interface ListWatchOptions {
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export function listWatch(client: Etcd3, ranges: WatchRanges, options: ListWatchOptions = {}): Observable<ListWatchEvent> {
  return new Observable<ListWatchEvent>((subscriber) => {
    let closed = false;
    let watchers: Watcher[] = [];
    let attempt = 0;
    let timer: NodeJS.Timeout | undefined;
    let connected: boolean | undefined;

    const setConnected = (value: boolean, reason: string): void => {
      if (connected === value) return;
      connected = value;
      subscriber.next({ type: 'connection', connected: value, reason });
    };

    const teardown = async (): Promise<void> => {
      const old = watchers;
      watchers = [];
      await Promise.allSettled(old.map((w) => w.cancel()));
    };

    const restart = (reason: string): void => {
      if (closed || timer) return;
      setConnected(false, reason);
      void teardown();
      attempt += 1;
      timer = setTimeout(() => {
        timer = undefined;
        void run(`relist after: ${reason}`);
      }, backoffMs(attempt, options.backoffBaseMs ?? 200, options.backoffMaxMs ?? 5000));
    };

    const run = async (reason: string): Promise<void> => {
      try {
        const { revision, entries } = await listAt(client, ranges);
        if (closed) return;
        subscriber.next({ type: 'reset', revision, entries, reason });
        // ONE watcher over the ranges' common prefix, filtered here: etcd orders
        // events within a watcher only, and a port's keys live under different
        // prefixes (vhost claim, bind_port, action), so per-range watchers
        // catching up after a list can deliver a later `unplug` before the
        // earlier bind_port and claim of the same port.
        const covering = commonPrefix(ranges);
        const wanted = (key: string): boolean => ranges.keys.includes(key) || ranges.prefixes.some((p) => key.startsWith(p));
        {
          const w = startWatcher(client, { prefix: covering }, revision, (ev) => wanted(ev.key) && subscriber.next(ev), {
            onConnected: () => {
              attempt = 0;
              setConnected(true, 'watching');
            },
            onDisconnected: (why) => setConnected(false, why),
            onFatal: (why) => restart(why),
          });
          if (closed) {
            await w.cancel();
            return;
          }
          watchers.push(w);
        }
        setConnected(true, 'listed and watching');
      } catch (err) {
        restart(`list failed: ${(err as Error).message}`);
      }
    };

    void run('start');
    return () => {
      closed = true;
      if (timer) clearTimeout(timer);
      void teardown();
    };
  });
}

/** The longest prefix shared by every range of `ranges`. */
export function commonPrefix(ranges: WatchRanges): string {
  const all = [...ranges.prefixes, ...ranges.keys];
  if (all.length === 0) throw new Error('listWatch needs at least one prefix or key');
  let prefix = all[0]!;
  for (const s of all) {
    let i = 0;
    while (i < prefix.length && i < s.length && prefix[i] === s[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix;
}

/** Lists every range at one revision (the first answer's), so the snapshot is consistent. */
async function listAt(client: Etcd3, ranges: WatchRanges): Promise<{ revision: number; entries: Array<[string, StoredValue]> }> {
  const entries: Array<[string, StoredValue]> = [];
  let revision: number | undefined;
  const take = (res: { header?: { revision?: unknown } | null; kvs?: Array<{ key: Buffer; value: Buffer; mod_revision: unknown }> }): void => {
    if (revision === undefined) revision = Number(res.header?.revision);
    for (const kv of res.kvs ?? []) entries.push([kv.key.toString(), { value: kv.value.toString(), modRevision: Number(kv.mod_revision) }]);
  };
  for (const prefix of ranges.prefixes) {
    const b = client.getAll().prefix(prefix);
    take(await (revision === undefined ? b : b.revision(revision)).exec());
  }
  for (const key of ranges.keys) {
    const b = client.get(key);
    take(await (revision === undefined ? b : b.revision(revision)).exec());
  }
  return { revision: revision ?? 0, entries };
}

interface WatcherHooks {
  onConnected(): void;
  onDisconnected(reason: string): void;
  onFatal(reason: string): void;
}

function startWatcher(
  client: Etcd3,
  range: { prefix: string } | { key: string },
  listRevision: number,
  emit: (ev: KeyEvent) => unknown,
  hooks: WatcherHooks,
): Watcher {
  let last = listRevision;
  const builder = 'prefix' in range ? client.watch().prefix(range.prefix) : client.watch().key(range.key);
  const watcher = builder.startRevision(String(listRevision + 1)).watcher();
  // etcd3 resumes a reconnecting watcher from the header revision of its
  // last response, which can skip events it had not yet delivered; resume
  // from the last event we actually saw instead.
  watcher.on('connecting', (req) => {
    (req as { start_revision?: string }).start_revision = String(last + 1);
  });
  watcher.on('connected', () => hooks.onConnected());
  watcher.on('disconnected', (err: Error) => hooks.onDisconnected(`etcd watch disconnected: ${err.message}`));
  watcher.on('error', (err: Error) => void explainCancel(client, last + 1, err).then((why) => hooks.onFatal(why)));
  watcher.on('data', (res) => {
    if (res.compact_revision && Number(res.compact_revision) > 0 && res.events.length === 0) return;
    for (const ev of res.events) {
      const revision = Number(ev.kv.mod_revision);
      const key = ev.kv.key.toString();
      if (ev.type === 'Delete') emit({ type: 'delete', key, revision });
      else emit({ type: 'put', key, value: ev.kv.value.toString(), revision });
      last = Math.max(last, revision);
    }
  });
  return watcher;
}

/**
 * etcd cancels a watch whose start revision was compacted with an empty
 * cancel reason (the compact revision is in a field etcd3 does not pass on):
 * a read at that revision tells whether compaction was the cause.
 */
async function explainCancel(client: Etcd3, revision: number, err: Error): Promise<string> {
  try {
    await client.get('/').revision(revision).exec();
  } catch (probe) {
    const message = (probe as Error).message;
    if (/compacted/.test(message)) return `etcd watch cancelled: revision ${revision} was compacted (${message})`;
  }
  return `etcd watch cancelled (${err.message})`;
}
