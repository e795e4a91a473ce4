/**
 * Waiting for the agent's answer on port_status/<host>/<port>.
 *
 * The original driver starts its watch only after `action = plug` is written,
 * so an agent that answers quickly is missed (see the spec's Pitfalls). We
 * watch from the revision of our own action put: every status written after
 * it reaches us however fast the agent is.
 */
import type { Etcd3 } from 'etcd3';
import { type CancellableWatch, cancellable } from '../etcd/watch-cancel';
import { decodeText, PortStatus } from '../protocol/codecs';
import { keys } from '../protocol/keys';

export type StatusOutcome =
  | { readonly kind: 'up' }
  | { readonly kind: 'error'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'timeout' };

/** What a port_status value means for a waiting binder. */
export function judgeStatus(key: string, raw: string): Exclude<StatusOutcome, { kind: 'timeout' }> {
  const d = decodeText(PortStatus, key, raw);
  if (!d.ok) return { kind: 'invalid', message: d.error };
  return d.value === 'up' ? { kind: 'up' } : { kind: 'error', reason: d.value.slice('error: '.length) };
}

export interface WaitForPortStatusOptions {
  readonly host: string;
  readonly portId: string;
  /** Revision of our `action = plug` put; statuses older than it are leftovers, not answers. */
  readonly fromRevision: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

/** Resolves with the first status written at or after `fromRevision`, or timeout. */
export function waitForPortStatus(client: Etcd3, opts: WaitForPortStatusOptions): Promise<StatusOutcome> {
  return waitForStatusKey(client, keys.portStatus(opts.host, opts.portId), opts);
}

/**
 * The same for any status key (port_status, tap_status): watched from the
 * revision of our own request, so an answer written before the watch is
 * set up is replayed by etcd rather than missed.
 */
export function waitForStatusKey(
  client: Etcd3,
  key: string,
  opts: { readonly fromRevision: number; readonly timeoutMs: number; readonly signal?: AbortSignal | undefined },
): Promise<StatusOutcome> {
  return new Promise<StatusOutcome>((resolve, reject) => {
    let settled = false;
    let watcher: CancellableWatch | undefined;
    const finish = (outcome: StatusOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      watcher?.cancel().catch(() => undefined);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const onAbort = (): void => finish(abortError(opts.signal));
    const timer = setTimeout(() => finish({ kind: 'timeout' }), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    const checkCurrent = async (): Promise<void> => {
      const res = await client.get(key).exec();
      const kv = res.kvs[0];
      if (kv && Number(kv.mod_revision) >= opts.fromRevision) finish(judgeStatus(key, kv.value.toString()));
    };

    client
      .watch()
      .key(key)
      .startRevision(String(opts.fromRevision))
      .create()
      .then(async (w) => {
        watcher = cancellable(w);
        if (settled) {
          await w.cancel().catch(() => undefined);
          return;
        }
        w.on('put', (kv) => finish(judgeStatus(key, kv.value.toString())));
        // A watch that etcd ends for good (e.g. our revision was compacted):
        // the current value is then the best we can know.
        w.on('error', (err) => checkCurrent().then(() => finish(err), finish));
        // Belt and braces next to the watch: the value may already be there.
        await checkCurrent();
      })
      .catch((err: Error) => checkCurrent().then(() => finish(err), finish));
  });
}

export function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error(`aborted${reason === undefined ? '' : `: ${String(reason)}`}`);
}
