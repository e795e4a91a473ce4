/**
 * A repair of etcd3 1.1.2's watch stream, applied once when this module is
 * loaded (src/etcd/connect.ts imports it, so every client of ours has it).
 *
 * etcd answers a watch create it refuses with `created` and `canceled` in one
 * response. etcd3 then ends that watcher but leaves it at the head of its
 * attach queue, which sends one create at a time and waits for each answer:
 * every watcher attached later on that stream waits for ever, never
 * connected, and cancelling one of them waits too. After an etcd restart with
 * auth on, this is what happens: the stream still carries the old auth token,
 * etcd refuses the next create with `invalid auth token`, and the agent's
 * relisted watches stay silent while it believes it is watching (issue 26).
 *
 * The repair takes the refused create off the queue, so the next one is sent;
 * and when etcd refused it for the stream's credentials (an auth error), it
 * rebuilds the stream as etcd3 does after a stream error: the new stream is
 * opened with the client's current token and re-attaches every live watcher.
 * The package is pinned (package.json) because this reaches into its internals;
 * `test/etcd-watch-create-fix.test.ts` fails if they change.
 */
import { WatchManager } from 'etcd3/lib/watch';

interface WatcherLike {
  id: string | null;
}
interface AttachQueueLike {
  queue: WatcherLike[];
  dequeue(w: WatcherLike): void;
  readQueue(): void;
}
interface CreateResponse {
  created: boolean;
  canceled: boolean;
  cancel_reason?: string;
}
interface ManagerInternals {
  state: number;
  queue?: AttachQueueLike;
  watchers: WatcherLike[];
  handleCancelResponse(watcher: WatcherLike, res: CreateResponse): void;
  handleError(err: Error): void;
}

/** etcd's refusals that are about who is asking, not what: a new stream (new credentials) may be granted what this one was not. */
const CREDENTIALS = /auth token|unauthenticated|authentication/i;
/** etcd3's WatchManager State.Connected. */
const CONNECTED = 2;

const proto = WatchManager.prototype as unknown as Record<string, unknown>;
if (proto.__sppCreateFix !== true) {
  const original = proto.handleCreatedResponse as (this: ManagerInternals, res: CreateResponse) => void;
  proto.handleCreatedResponse = function (this: ManagerInternals, res: CreateResponse): void {
    const queue = this.queue;
    const head = queue?.queue[0];
    if (!res.canceled || !queue || head === undefined) {
      original.call(this, res);
      return;
    }
    // the refused create is the one the queue sent last: its head
    queue.dequeue(head);
    this.handleCancelResponse(head, res);
    if (CREDENTIALS.test(res.cancel_reason ?? '') && this.state === CONNECTED) {
      this.handleError(new Error(`etcd refused a watch on this stream (${res.cancel_reason}): opening a new stream`));
      return;
    }
    queue.readQueue();
  };
  proto.__sppCreateFix = true;
}
