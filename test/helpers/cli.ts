/** Runs the `spp` CLI in-process with captured output, as a user would see it. */
import type { ChildProcess } from 'node:child_process';
import { main } from '../../src/cli/main';

export interface CliRun {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    env,
  });
  return { code, out, err };
}

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
