/**
 * Cancelling an etcd3 watcher safely.
 *
 * etcd3 1.1.2 sends a cancel request even for a watcher that etcd itself
 * already cancelled (a compacted start revision): etcd's answer then names
 * a watch id the client has dropped, and etcd3 throws "Failed to find
 * watcher for IWatchResponse" from its stream handler, an uncaught
 * exception that kills the process. An agent relisting after a compaction
 * cancels all its range watchers at once, and did crash this way.
 */
import type { Watcher } from 'etcd3';

export interface CancellableWatch {
  readonly watcher: Watcher;
  /** Cancels the watch unless etcd already ended it. */
  cancel(): Promise<void>;
}

export function cancellable(watcher: Watcher): CancellableWatch {
  let ended = false;
  // etcd3 emits `error` for a watch etcd cancelled and `end` for one it closed: both are gone on the server
  watcher.once('error', () => {
    ended = true;
  });
  watcher.once('end', () => {
    ended = true;
  });
  return {
    watcher,
    async cancel() {
      if (ended) return;
      ended = true;
      await watcher.cancel();
    },
  };
}
