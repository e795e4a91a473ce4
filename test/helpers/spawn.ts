/** The one way tests start a process: `spp` (or another node script) as a child, its output captured, never left running. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { until } from './wait';

/** The repository's root, from the compiled dist/test/helpers/. */
export const ROOT = join(__dirname, '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'spp.js');

/** A child process's stdout and stderr as they come, interleaved, as a terminal would show them. */
export function childOutput(child: ChildProcess): { text: () => string } {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return { text: () => out };
}

export interface Spawned {
  readonly child: ChildProcess;
  /** stdout and stderr interleaved. */
  text(): string;
  /** stdout alone. */
  stdout(): string;
  /** The exit code (null after a signal); listened for from the start, so an early exit is not missed. */
  readonly exited: Promise<number | null>;
  /** The first match of `re` in the output, polled; fails naming `what` and showing the output. */
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<RegExpExecArray>;
}

export interface SpawnOptions {
  /** The node script to run; `bin/spp.js` by default. */
  readonly script?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** The signal that ends it at teardown if it still runs; SIGKILL by default. */
  readonly stopWith?: NodeJS.Signals;
}

/** Starts `node <script> ...args` (by default `spp`, as a user runs it), and ends it at the test's teardown. */
export function spawnNode(t: { teardown(fn: () => void): void }, args: readonly string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(process.execPath, [opts.script ?? BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}),
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const all = childOutput(child);
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill(opts.stopWith ?? 'SIGKILL');
  });
  return {
    child,
    text: all.text,
    stdout: () => stdout,
    exited,
    waitFor: (re, what, timeoutMs = 20_000) =>
      until(
        () => re.exec(all.text()) ?? undefined,
        () => `${what} in ${JSON.stringify(all.text())}`,
        timeoutMs,
      ),
  };
}
