/**
 * Unbind as neutron's driver does it: turn the port's action into `unplug`
 * and let the agent do the rest; optionally wait until it has.
 */
import type { Etcd3 } from 'etcd3';
import { type CancellableWatch, cancellable } from '../etcd/watch-cancel';
import { keys } from '../protocol/keys';
import { UnbindError } from './errors';
import { abortError } from './status';
import { unbindInputProblem } from './validate';

export const DEFAULT_UNBIND_TIMEOUT_MS = 20_000;

export interface UnbindPortRequest {
  readonly host: string;
  readonly portId: string;
  /** Wait until the agent has removed the port's bind_port, action and port_status keys. */
  readonly wait?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export type UnbindOutcome = 'nothing_to_unbind' | 'unplug_requested' | 'unbound';

export interface UnbindResult {
  readonly outcome: UnbindOutcome;
  readonly message: string;
}

export async function unbindPort(client: Etcd3, req: UnbindPortRequest): Promise<UnbindResult> {
  const problem = unbindInputProblem(req);
  if (problem !== undefined) throw new UnbindError('invalid_input', `invalid unbind request: ${problem}`);
  const { host, portId } = req;
  const actionKey = keys.action(host, portId);
  // Only a port that has an action was ever handed to the agent; unbinding
  // anything else is not an error for neutron.
  if (!(await client.get(actionKey).exists())) {
    return { outcome: 'nothing_to_unbind', message: `nothing to unbind: port ${portId} has no action on ${host} (${actionKey} is missing)` };
  }
  // Written even when it already says unplug: the agent reacts to the event.
  const put = await client.put(actionKey).value('unplug').exec();
  if (!req.wait) {
    return { outcome: 'unplug_requested', message: `unplug requested for port ${portId} on ${host}; the agent releases its vhost` };
  }
  const timeoutMs = req.timeoutMs ?? DEFAULT_UNBIND_TIMEOUT_MS;
  const done = await waitForCleanup(client, { host, portId, fromRevision: Number(put.header.revision), timeoutMs, signal: req.signal });
  if (!done) {
    const left: string[] = [];
    for (const k of portKeys(host, portId)) if (await client.get(k).exists()) left.push(k);
    throw new UnbindError(
      'timeout',
      `timeout: the agent on ${host} did not clean up port ${portId} within ${timeoutMs} ms; still present: ${left.join(', ') || '(none by now)'}`,
    );
  }
  return { outcome: 'unbound', message: `port ${portId} unbound on ${host}: the agent removed its keys and freed its vhost` };
}

function portKeys(host: string, portId: string): string[] {
  return [keys.bindPort(host, portId), keys.action(host, portId), keys.portStatus(host, portId)];
}

/** True once bind_port, action and port_status of the port are all gone; false on timeout. */
export function waitForCleanup(
  client: Etcd3,
  opts: { host: string; portId: string; fromRevision: number; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<boolean> {
  return waitForKeysGone(client, portKeys(opts.host, opts.portId), opts);
}

/** True once every key of `watched` is gone (deleted at or after `fromRevision`, or absent); false on timeout. */
export function waitForKeysGone(
  client: Etcd3,
  watched: readonly string[],
  opts: { fromRevision: number; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const watchers: CancellableWatch[] = [];
    const finish = (result: boolean | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      for (const w of watchers) w.cancel().catch(() => undefined);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onAbort = (): void => finish(abortError(opts.signal));
    const timer = setTimeout(() => finish(false), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    // The original agent deletes the keys one by one, ours in one
    // transaction: either way, look at all three after every delete.
    const check = async (): Promise<void> => {
      const present = await Promise.all(watched.map((k) => client.get(k).exists()));
      if (!present.some(Boolean)) finish(true);
    };
    const onError = (err: Error): void => finish(err);

    Promise.all(watched.map((k) => client.watch().key(k).startRevision(String(opts.fromRevision)).only('delete').create()))
      .then(async (ws) => {
        watchers.push(...ws.map(cancellable));
        if (settled) {
          for (const w of ws) w.cancel().catch(() => undefined);
          return;
        }
        for (const w of ws) {
          w.on('delete', () => check().catch(onError));
          w.on('error', onError);
        }
        await check();
      })
      .catch(onError);
  });
}
