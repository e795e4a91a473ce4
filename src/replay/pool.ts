/**
 * The replay across cores: hosts are independent (each has its own Controller,
 * emulator and key space), so worker threads (`worker.ts`) each replay a fixed
 * share of them and send their HostReports back (the engine replays one share
 * in its own thread). The share depends only on
 * the hosts' steps, never on timing, and the engine puts the reports back in
 * host order, so the report is the same for any number of workers.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InputError } from './input';
import type { HostJob, HostReport, WorkerReplayOptions } from './report';

/** From the main thread to a worker: its hosts, in the order to replay them. */
export interface WorkerRequest {
  readonly work: readonly HostJob[];
  readonly options: WorkerReplayOptions;
  /** Send progress messages (only when the caller asked for progress). */
  readonly progress: boolean;
}

/** From a worker to the main thread. */
export type WorkerMessage =
  | { readonly type: 'progress'; readonly steps: number }
  | { readonly type: 'reports'; readonly reports: readonly HostReport[] }
  | { readonly type: 'done' }
  | { readonly type: 'error'; readonly message: string; readonly input: boolean };

/** How much replaying a host costs, roughly: its keys and its steps. */
export function hostWeight(job: HostJob): number {
  return job.steps.reduce((n, s) => n + 1 + (s.event.type === 'reset' ? s.event.entries.length : 0), 0);
}

/**
 * Splits hosts into `n` shares of about equal weight (largest first, each to
 * the lightest share so far; ties by name and by share index), each share in
 * host-name order. Deterministic: the same hosts give the same shares.
 */
export function shareHosts(work: readonly HostJob[], n: number): HostJob[][] {
  const weighed = work.map((job) => ({ job, w: hostWeight(job) }));
  weighed.sort((a, b) => b.w - a.w || (a.job.host < b.job.host ? -1 : a.job.host > b.job.host ? 1 : 0));
  const shares = Array.from({ length: n }, () => ({ load: 0, jobs: [] as HostJob[] }));
  for (const { job, w } of weighed) {
    let lightest = shares[0]!;
    for (const s of shares) if (s.load < lightest.load) lightest = s;
    lightest.load += w;
    lightest.jobs.push(job);
  }
  return shares.filter((s) => s.jobs.length > 0).map((s) => s.jobs.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)));
}

/**
 * The compiled worker script next to this module; undefined when this module
 * runs from TypeScript sources (e.g. under a TS loader), where the replay
 * stays in one thread.
 */
export function workerScript(): string | undefined {
  const path = join(__dirname, 'worker.js');
  return existsSync(path) ? path : undefined;
}

/** Young generation per worker: the replay allocates many short-lived objects (see docs/performance.md). */
const YOUNG_GENERATION_MB = 64;

/**
 * Replays each share on a worker thread of its own; resolves when all are
 * done, rejects on the first failure. `stop` ends the workers (when the
 * caller's own share failed).
 */
export function replayInWorkers(
  shares: readonly HostJob[][],
  options: WorkerReplayOptions,
  progress?: (steps: number) => void,
  stop?: AbortSignal,
): Promise<Map<string, HostReport>> {
  const script = workerScript();
  if (script === undefined) return Promise.reject(new Error(`the replay's worker script ${join(__dirname, 'worker.js')} is not built (run tsc)`));
  const reports = new Map<string, HostReport>();
  const workers: Worker[] = [];
  return new Promise<Map<string, HostReport>>((resolve, reject) => {
    let running = shares.length;
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of workers) void w.terminate();
      reject(err);
    };
    stop?.addEventListener('abort', () => fail(new Error('replay workers stopped')), { once: true });
    for (const work of shares) {
      const worker = new Worker(script, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
      workers.push(worker);
      let finished = false;
      worker.on('message', (m: WorkerMessage) => {
        if (failed) return;
        if (m.type === 'progress') progress?.(m.steps);
        else if (m.type === 'reports') for (const r of m.reports) reports.set(r.host, r);
        else if (m.type === 'error') fail(m.input ? new InputError(m.message) : new Error(m.message));
        else {
          finished = true;
          void worker.terminate();
          if (--running === 0) resolve(reports);
        }
      });
      worker.on('error', (err) => fail(new Error(`replay worker failed: ${err.message}`)));
      worker.on('exit', (code) => {
        if (!finished) fail(new Error(`replay worker exited (code ${code}) before it finished its hosts`));
      });
      const request: WorkerRequest = { work, options, progress: progress !== undefined };
      worker.postMessage(request);
    }
  });
}
