/**
 * Logs the cause of etcd trouble once when it appears or changes (naming
 * the endpoint and the underlying error), then, while it lasts, again at a
 * growing interval (10 s doubling to 5 min), and once when calls succeed
 * again. The retry loops themselves log at debug: an outage is a handful of
 * lines an hour, not one per retry.
 */
import { causeText, type EtcdCause, type EtcdHealth } from '../etcd/health';
import type { Logger } from '../log';

export interface CauseLogTimes {
  readonly firstRepeatMs?: number;
  readonly maxRepeatMs?: number;
}

/** Starts logging `health`'s causes; returns the stop function. */
export function logEtcdCauses(health: EtcdHealth, log: Logger, times: CauseLogTimes = {}): () => void {
  const first = times.firstRepeatMs ?? 10_000;
  const max = times.maxRepeatMs ?? 300_000;
  let since = 0;
  let last: EtcdCause | undefined;
  let timer: NodeJS.Timeout | undefined;
  const fields = (c: EtcdCause) => ({ cause: causeText(c), endpoint: c.endpoint, kind: c.kind });
  const repeat = (delay: number): void => {
    timer = setTimeout(() => {
      const c = health.cause;
      if (!c) return;
      log.warn('etcd trouble continues', { ...fields(c), forSec: Math.round((Date.now() - since) / 1000) });
      repeat(Math.min(max, delay * 2));
    }, delay);
    timer.unref();
  };
  const off = health.onChange((cause) => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (cause) {
      if (!last) since = Date.now();
      log.warn('etcd trouble', fields(cause));
      repeat(first);
    } else if (last) {
      log.info('etcd answers again', { after: causeText(last), troubleSec: Math.round((Date.now() - since) / 1000) });
    }
    last = cause;
  });
  return () => {
    off();
    if (timer) clearTimeout(timer);
  };
}
