/**
 * The etcd3 client's fault handling, replacing its default per-host circuit
 * breaker. Why (etcd3 1.1.2, lib/connection-pool.js): when a call's auth
 * token is rejected (`etcdserver: invalid auth token`, which every call gets
 * after etcd restarts: its simple tokens live in memory), exec() drops the
 * token and calls exec() again *from inside* the call the host's breaker is
 * running. After an outage the breaker is open; the first call once etcd is
 * back is its half-open test, and cockatiel makes every call during a test
 * wait for the test to end (`await state.test`). The retry inside the test
 * is one of those calls: the test waits for itself, never ends, and every
 * later call (lease grants, puts, the lock, relists) waits behind it for
 * good, beyond any call deadline (the deadline is only set on gRPC calls
 * never made). Only with auth on, and only after an outage long enough to
 * open the breaker (3 failed calls): what issue 26 saw.
 *
 * So no breaker: each call goes to a host, and a failure that etcd3 calls
 * recoverable (unreachable, deadline) is retried at once on the next host,
 * once per endpoint and at most 3 times (etcd3's default global retry),
 * which is how a cluster member that is down is passed over; a single
 * endpoint gets one retry, on a fresh channel (etcd3 resets the channel of
 * a failed host), not four waits of a call deadline. The policies also report each
 * outcome to an EtcdHealth, with the endpoint that failed.
 */
import type { IDefaultPolicyContext, IPolicy } from 'cockatiel';
import { isRecoverableError } from 'etcd3';
import type { EtcdHealth } from './health';

const MAX_RETRIES = 3;

// etcd3 only calls execute() on these; the events are there for the type
const noEvent = () => ({ dispose: () => undefined });

function policy(execute: <T>(fn: (context: IDefaultPolicyContext) => PromiseLike<T> | T, signal?: AbortSignal) => Promise<T>): IPolicy {
  return { execute, onSuccess: noEvent, onFailure: noEvent } as unknown as IPolicy;
}

const neverAborted = new AbortController().signal;

export interface FaultHandling {
  host(endpoint: string): IPolicy;
  global: IPolicy;
}

/** The endpoint each failure came from, for the cause message. */
const failedAt = new WeakMap<object, string>();

export function faultHandling(endpoints: number, health?: EtcdHealth): FaultHandling {
  const retries = Math.max(1, Math.min(MAX_RETRIES, endpoints));
  return {
    host: (endpoint) =>
      policy(async (fn, signal = neverAborted) => {
        try {
          return await fn({ signal });
        } catch (err) {
          if (err !== null && typeof err === 'object') failedAt.set(err, endpoint.replace(/^[a-z]+:\/\//, ''));
          throw err;
        }
      }),
    // wraps each unary call (not the watch and keep-alive streams): its outcome is what etcd answered
    global: policy(async (fn, signal = neverAborted) => {
      for (let attempt = 0; ; attempt++) {
        try {
          const result = await fn({ signal });
          health?.succeeded();
          return result;
        } catch (err) {
          if (attempt < retries && err instanceof Error && isRecoverableError(err) && !signal.aborted) continue;
          health?.failed(err, typeof err === 'object' && err !== null ? failedAt.get(err) : undefined);
          throw err;
        }
      }
    }),
  };
}
