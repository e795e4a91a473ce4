/**
 * A bench figure measured in a child process of its own (its CPU, memory and
 * cold code are its own): `node ARGS`, whose last stdout line is the figure
 * as JSON.
 */
import { spawn } from 'node:child_process';

/**
 * SPP_BENCH_CHILD_PROFILE=DIR runs each such child under `node --cpu-prof`
 * into DIR (Node refuses --cpu-prof in NODE_OPTIONS): the profile of a
 * replay or a machine floor, summarised with scripts/bench/profile.ts.
 */
const profileArgs = (dir = process.env.SPP_BENCH_CHILD_PROFILE): string[] => (dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : []);

/** The child's last stdout line, parsed; a failure (exit code, no JSON line, killed after `timeoutMs`) names its output. */
export function childFigure<T>(args: readonly string[], timeoutMs: number): Promise<T | { readonly failed: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...profileArgs(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').pop() ?? '';
      resolve(code === 0 && line.startsWith('{') ? (JSON.parse(line) as T) : { failed: `exit ${code}: ${(err || out).trim().slice(0, 300)}` });
    });
  });
}
