/**
 * The etcd session of the driver's commands (`spp port bind|unbind`,
 * `spp tap create|delete`): no overall budget (they wait for the agent up to
 * --timeout), and the driver's refusals as one stderr line and an exit code.
 */

import { printable } from '../../protocol/printable';
import { type CliCommand, type Io, num, UsageError, type Values } from '../framework';
import { withEtcdClient } from './etcd-session';

/** The exit code of a refusal of the driver, 'usage' for bad input; undefined for any other error. */
export type RefusalExit = (err: unknown) => number | 'usage' | undefined;

export function withDriverErrors(cmd: CliCommand, values: Values, io: Io, body: Parameters<typeof withEtcdClient>[3], exitOf: RefusalExit): Promise<number> {
  const name = `spp ${cmd.path.join(' ')}`;
  return withEtcdClient(
    cmd,
    values,
    io,
    async (client) => {
      try {
        return await body(client);
      } catch (err) {
        const code = exitOf(err);
        if (code === undefined) throw err;
        if (code === 'usage') throw new UsageError((err as Error).message);
        // the message may quote the agent's status, text from etcd
        io.err(`${name}: ${printable((err as Error).message)}\n`);
        return code;
      }
    },
    { budgetMs: false },
  );
}

/** --timeout SECONDS in milliseconds, if given. */
export function timeoutMs(values: Values): number | undefined {
  return values.timeout === undefined ? undefined : num(values, 'timeout', 0) * 1000;
}
