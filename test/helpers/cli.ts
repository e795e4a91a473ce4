/** Runs the `spp` CLI in-process with captured output, as a user would see it. */
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

export { childOutput } from './spawn';
