/**
 * A replay worker thread (started by pool.ts): replays the hosts it is sent
 * with the engine's in-thread path and posts their reports back as they finish.
 */
import { parentPort } from 'node:worker_threads';
import { silentLogger } from '../log';
import { replayHosts } from './engine';
import { InputError } from './input';
import type { WorkerMessage, WorkerRequest } from './pool';
import type { HostReport } from './report';

/** Steps between progress messages: one message per step would cost more than the steps. */
const PROGRESS_BATCH = 200;
/** Reports per message: fewer, larger messages are cheaper to clone. */
const REPORT_BATCH = 16;

const port = parentPort;
if (!port) throw new Error('src/replay/worker.js is a worker thread of the replay, not a program');

port.once('message', (request: WorkerRequest) => {
  const post = (m: WorkerMessage): void => port.postMessage(m);
  let steps = 0;
  const progress = (): void => {
    if (request.progress && ++steps >= PROGRESS_BATCH) {
      post({ type: 'progress', steps });
      steps = 0;
    }
  };
  let batch: HostReport[] = [];
  const flush = (): void => {
    if (batch.length > 0) post({ type: 'reports', reports: batch });
    batch = [];
  };
  const onReport = (r: HostReport): void => {
    batch.push(r);
    if (batch.length >= REPORT_BATCH) flush();
  };
  replayHosts(request.work, { ...request.options, logger: silentLogger() }, progress, onReport).then(
    () => {
      flush();
      if (steps > 0) post({ type: 'progress', steps });
      post({ type: 'done' });
    },
    (err: unknown) => {
      post({ type: 'error', message: err instanceof Error ? err.message : String(err), input: err instanceof InputError });
    },
  );
});
