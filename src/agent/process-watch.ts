/**
 * What the NIC and the mirror machines (both nicMachine) share around their
 * actors: their timers from the host's options, and which of their state
 * changes are routine.
 */
import type { HostRuntime } from './host-runtime';

/** The resync interval and backoff of a process machine's input, from the host's options. */
export function processTimers(rt: HostRuntime): { resyncIntervalMs: number; backoffBaseMs?: number; backoffMaxMs?: number } {
  return {
    resyncIntervalMs: rt.opts.resyncIntervalMs ?? 30_000,
    ...(rt.opts.nicBackoff ? { backoffBaseMs: rt.opts.nicBackoff.baseMs, backoffMaxMs: rt.opts.nicBackoff.maxMs } : {}),
  };
}

interface ProcessSnapshot {
  hasTag(tag: string): boolean;
  readonly context: { readonly lastCommands: readonly unknown[] };
}

/**
 * A tracker of one process machine's state changes: true for those of the
 * periodic resync (ready -> building -> ready with nothing sent), which are
 * logged at debug; a first build or a repair is news.
 */
export function routineResync(): (snap: ProcessSnapshot) => boolean {
  let wasUp = false;
  let resyncing = false;
  return (snap) => {
    if (snap.hasTag('running')) resyncing = wasUp;
    wasUp = snap.hasTag('up');
    return resyncing && (snap.hasTag('running') || (snap.hasTag('up') && snap.context.lastCommands.length === 0));
  };
}
