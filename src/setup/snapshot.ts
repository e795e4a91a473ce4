/**
 * One consistent read of a key range: every key with its value and mod
 * revision, at a single etcd revision, so decisions and the guards of the
 * transaction that follows see the same state.
 */
import type { Etcd3 } from 'etcd3';

export interface KeyState {
  readonly value: string;
  /** etcd mod_revision as etcd returns it (a decimal string). */
  readonly modRevision: string;
}

export interface Snapshot {
  readonly revision: string;
  readonly keys: Readonly<Record<string, KeyState>>;
}

export async function readSnapshot(client: Etcd3, prefix: string): Promise<Snapshot> {
  const res = await client.getAll().prefix(prefix).exec();
  const keys: Record<string, KeyState> = {};
  for (const kv of res.kvs) keys[kv.key.toString()] = { value: kv.value.toString(), modRevision: String(kv.mod_revision) };
  return { revision: String(res.header.revision), keys };
}

/** The values alone, for pure functions that only look at values. */
export function snapshotValues(snapshot: Snapshot): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot.keys).map(([k, s]) => [k, s.value]));
}

/** The mod revision a guard compares with: '0' stands for "the key does not exist". */
export function modRevisionOf(keys: Readonly<Record<string, KeyState>>, key: string): string {
  return keys[key]?.modRevision ?? '0';
}
