/**
 * Notices within seconds that etcd refuses the agent's user a grant, or gives
 * one back (issue 26 §2). Without it a revoked read showed only at the next
 * etcd event's relist (50 s seen) and a re-grant waited out a refusal backoff
 * of up to 30 s. Every few seconds one transaction that changes nothing: its
 * compare (the lock key's version below 0) is false by construction, so
 * only the failure branch runs (count-only reads of the host's ranges), yet
 * etcd checks the user's permission on every operation of both branches,
 * including the puts and deletes of the success branch. Only when it is
 * refused is each grant probed alone, to name what is missing.
 */
import type { Etcd3, IRequestOp } from 'etcd3';
import type { RefusalSource } from '../../machines/agent';
import { explainRefusedRead, type WatchRanges } from '../etcd/listwatch';
import { describeUser, isRefusal } from '../etcd/refusal';
import { keys } from '../protocol/keys';

/** What etcd refuses now, by the agent's source; empty: every grant is there. */
export type Grants = Partial<Record<RefusalSource, string>>;

const b = (s: string): Buffer => Buffer.from(s);
/** A key under a granted prefix; never written (it is in the branch that does not run). */
const PROBE_ID = 'grant-probe';

function prefixEnd(prefix: string): Buffer {
  const end = b(prefix);
  end[end.length - 1] = end[end.length - 1]! + 1;
  return end;
}

/** The writes the agent makes, by source: its lock, its liveness key, its port keys (status, and the unplug clean-up's deletes). */
function writeOps(host: string, ranges: WatchRanges): Record<'lock' | 'liveness' | 'write', IRequestOp[]> {
  // a put needs the write grant a delete needs too (etcd refuses a txn with both on one key)
  const put = (key: string): IRequestOp => ({ request_put: { key: b(key), value: b('') } });
  return {
    lock: [put(keys.agentLock(host))],
    liveness: [put(keys.agent(host))],
    write: ranges.prefixes.map((p) => put(p + PROBE_ID)),
  };
}

function readOps(ranges: WatchRanges): IRequestOp[] {
  return [
    ...ranges.prefixes.map((p): IRequestOp => ({ request_range: { key: b(p), range_end: prefixEnd(p), count_only: true } })),
    ...ranges.keys.map((k): IRequestOp => ({ request_range: { key: b(k), count_only: true } })),
  ];
}

/** A transaction whose compare on `compareKey` is false: `success` is only permission-checked. */
function neverTxn(client: Etcd3, compareKey: string, success: IRequestOp[], failure: IRequestOp[]) {
  return client.kv.txn({ compare: [{ key: b(compareKey), target: 'Version', result: 'Less', version: '0' }], success, failure });
}

/** One transaction: true when etcd grants every operation the agent makes; false when it refuses one; throws what is not a refusal. */
async function allGranted(client: Etcd3, host: string, ranges: WatchRanges): Promise<boolean> {
  const writes = writeOps(host, ranges);
  try {
    await neverTxn(client, keys.agentLock(host), [...writes.lock, ...writes.liveness, ...writes.write], readOps(ranges));
    return true;
  } catch (err) {
    if (!isRefusal(err)) throw err;
    return false;
  }
}

/** Each grant probed alone (a dozen requests): what etcd refuses the agent's user, naming it. */
async function whatIsRefused(client: Etcd3, host: string, ranges: WatchRanges, user: string | undefined): Promise<Grants> {
  const writes = writeOps(host, ranges);
  const grants: Grants = {};
  const who = describeUser(user);
  for (const source of ['lock', 'liveness', 'write'] as const) {
    // each compared on a key of its own grant, so that one missing grant does not hide the others
    const compareKey =
      source === 'lock' ? keys.agentLock(host) : source === 'liveness' ? keys.agent(host) : ranges.prefixes[ranges.prefixes.length - 1]! + PROBE_ID;
    try {
      await neverTxn(client, compareKey, writes[source], []);
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const what =
        source === 'lock'
          ? `the agent lock ${keys.agentLock(host)}`
          : source === 'liveness'
            ? `the liveness key ${keys.agent(host)}`
            : 'writes of its port keys';
      grants[source] = `etcd refused ${who} ${what}: ${(err as Error).message}`;
    }
  }
  try {
    await client.kv.txn({ compare: [], success: readOps(ranges), failure: [] });
  } catch (err) {
    if (!isRefusal(err)) throw err;
    grants.watch = await explainRefusedRead(client, ranges, user, err as Error);
  }
  return grants;
}

/**
 * A probe of what etcd refuses the agent's user now (throws what is not a
 * refusal: etcd unreachable, and then nothing is known). One request while
 * every grant is there; when one is missing, what is missing is worked out
 * when that starts and then at most every `detailEveryMs`, so that a refused
 * agent does not spend a dozen requests every few seconds. Everything
 * granted again shows at the next probe.
 */
export function grantProber(client: Etcd3, host: string, ranges: WatchRanges, user: string | undefined, detailEveryMs = 15_000): () => Promise<Grants> {
  let detail: Grants | undefined;
  let at = 0;
  return async () => {
    if (await allGranted(client, host, ranges)) {
      detail = undefined;
      return {};
    }
    if (detail === undefined || Date.now() - at >= detailEveryMs) {
      detail = await whatIsRefused(client, host, ranges, user);
      at = Date.now();
    }
    return detail;
  };
}

export type GrantAction =
  | { readonly type: 'refuse'; readonly source: RefusalSource; readonly reason: string }
  | { readonly type: 'restore'; readonly source: RefusalSource };

/**
 * What to do about a probe's result, given what the agent reports refused
 * now: report a refusal not reported yet (the lock's only while it is not
 * held: a held lock is lost by its lease, not by a grant), and end the
 * refusal of a source whose grant is back.
 */
export function grantActions(grants: Grants, refusedNow: Grants, lockHeld: boolean): GrantAction[] {
  const actions: GrantAction[] = [];
  for (const source of ['watch', 'lock', 'liveness', 'write'] as const) {
    const reason = grants[source];
    if (reason !== undefined) {
      if (refusedNow[source] !== reason && !(source === 'lock' && lockHeld)) actions.push({ type: 'refuse', source, reason });
    } else if (refusedNow[source] !== undefined) actions.push({ type: 'restore', source });
  }
  return actions;
}

export interface GrantWatchOptions {
  readonly intervalMs: number;
  probe(): Promise<Grants>;
  refusedNow(): Grants;
  lockHeld(): boolean;
  act(action: GrantAction): void;
}

/** Probes every `intervalMs` and acts on the result; returns the stop function. */
export function watchGrants(opts: GrantWatchOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async (): Promise<void> => {
    // a probe etcd did not answer says nothing about the grants (the cause log tells why)
    const grants = await opts.probe().catch(() => undefined);
    if (stopped || grants === undefined) return;
    for (const a of grantActions(grants, opts.refusedNow(), opts.lockHeld())) opts.act(a);
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => void tick().finally(schedule), opts.intervalMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
