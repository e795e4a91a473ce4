/**
 * Applies a set of puts and deletes in ONE etcd transaction that succeeds
 * only if every guarded key still has the mod revision it had when the
 * decision was made ('0': the key still does not exist).
 */
import type { Etcd3 } from 'etcd3';
import { SetupRefused } from './errors';

export interface Guard {
  readonly key: string;
  readonly modRevision: string;
}

export type WriteOp =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'deletePrefix'; readonly prefix: string };

/**
 * etcd's default --max-txn-ops; a bigger transaction is rejected by the
 * server, so callers are told up front instead of getting a gRPC error.
 */
export const MAX_TXN_OPS = 128;

/** True when committed, false when a guard failed (someone changed a guarded key meanwhile). */
export async function commitGuarded(client: Etcd3, guards: readonly Guard[], ops: readonly WriteOp[]): Promise<boolean> {
  if (ops.length === 0) return true;
  if (guards.length === 0) throw new Error('internal: a guarded write needs at least one guard');
  if (guards.length > MAX_TXN_OPS || ops.length > MAX_TXN_OPS) {
    throw new SetupRefused('change too large for one etcd transaction', [
      `it needs ${guards.length} comparisons and ${ops.length} writes; etcd accepts at most ${MAX_TXN_OPS} of each (--max-txn-ops)`,
    ]);
  }
  const [first, ...rest] = guards;
  let txn = client.if(first!.key, 'Mod', '==', first!.modRevision);
  for (const g of rest) txn = txn.and(g.key, 'Mod', '==', g.modRevision);
  const res = await txn
    .then(
      ...ops.map((op) =>
        op.kind === 'put' ? client.put(op.key).value(op.value) : op.kind === 'delete' ? client.delete().key(op.key) : client.delete().prefix(op.prefix),
      ),
    )
    .commit();
  return res.succeeded;
}
