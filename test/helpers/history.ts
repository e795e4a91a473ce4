/**
 * Every change of etcd keys from a revision on, by a watch started at that
 * revision: tests check that a key never held a value, not only its last one.
 */
import type { Etcd3 } from 'etcd3';
import { until } from './wait';

export interface KeyChange {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: string;
  readonly revision: number;
}

export interface KeyHistory {
  readonly changes: KeyChange[];
  /** The values `key` was put to, in order. */
  values(key: string): string[];
  /** Resolves once the watch has delivered the current state of `key` (its last put, or its delete). */
  caughtUp(key: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The cluster's current revision. */
export async function currentRevision(client: Etcd3): Promise<number> {
  return Number((await client.get('/').exec()).header.revision);
}

/** Watches `prefix` (or the one key, with exact) from `fromRevision` (default: now). */
export async function watchHistory(client: Etcd3, prefix: string, opts: { fromRevision?: number; exact?: boolean } = {}): Promise<KeyHistory> {
  const from = opts.fromRevision ?? (await currentRevision(client)) + 1;
  const builder = opts.exact ? client.watch().key(prefix) : client.watch().prefix(prefix);
  const watcher = await builder.startRevision(String(from)).create();
  const changes: KeyChange[] = [];
  watcher.on('data', (res) => {
    for (const ev of res.events) {
      changes.push({
        type: ev.type === 'Put' ? 'put' : 'delete',
        key: ev.kv.key.toString(),
        value: ev.kv.value.toString(),
        revision: Number(ev.kv.mod_revision),
      });
    }
  });
  return {
    changes,
    values: (key) => changes.filter((c) => c.key === key && c.type === 'put').map((c) => c.value),
    caughtUp: async (key, timeoutMs = 10_000) => {
      await until(
        async () => {
          const kv = (await client.get(key).exec()).kvs[0];
          const mine = changes.filter((c) => c.key === key);
          const last = mine[mine.length - 1];
          return kv ? last !== undefined && last.revision >= Number(kv.mod_revision) : last === undefined || last.type === 'delete';
        },
        `the watch of ${key} to catch up`,
        timeoutMs,
      );
    },
    close: () => watcher.cancel(),
  };
}
