/**
 * How a CLI command reaches etcd: the shared --etcd-* options (TLS, user),
 * a probe so a dead cluster fails in seconds, and one clear message naming
 * the endpoints and the user instead of a gRPC stack trace.
 */
import {
  ClientClosedError,
  ClientRuntimeError,
  type Etcd3,
  EtcdAuthenticationFailedError,
  EtcdError,
  EtcdInvalidAuthTokenError,
  EtcdPermissionDeniedError,
  GRPCGenericError,
} from 'etcd3';
import { connectEtcd, type EtcdConnectOptions } from '../../etcd/connect';
import { ETCD_SETTINGS, settingLabel } from '../../etcd/connect-settings';
import { etcdConnectOptions } from '../etcd-options';
import type { CliCommand, Io, Values } from '../framework';

/** Per-call deadline of CLI commands (etcd3 retries a call that times out, hence also a total budget). */
export const CLI_CALL_TIMEOUT_MS = 2000;
/** Budget for a whole command's etcd work: its few calls take milliseconds on a healthy cluster. */
export const CLI_TOTAL_TIMEOUT_MS = 5000;
/** How long an unreachable etcd (or a wrong password) may take to say so. */
export const ETCD_PROBE_MS = 3000;

class NoAnswer extends Error {
  constructor(ms: number) {
    super(`DEADLINE_EXCEEDED: no answer within ${ms / 1000} s`);
  }
}

export interface SessionOptions {
  /** Total budget of `body`; false for commands with a timeout of their own (bind waits for the agent). */
  readonly budgetMs?: number | false;
}

function isEtcdFailure(err: unknown): err is Error {
  return (
    err instanceof GRPCGenericError ||
    err instanceof ClientRuntimeError ||
    err instanceof ClientClosedError ||
    err instanceof EtcdError ||
    err instanceof EtcdAuthenticationFailedError ||
    err instanceof EtcdPermissionDeniedError ||
    err instanceof EtcdInvalidAuthTokenError ||
    err instanceof NoAnswer ||
    (err instanceof Error && /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|etcdserver:/.test(err.message))
  );
}

const firstLine = (err: Error): string => err.message.split('\n')[0]!.replace(/\s*Resolution note:.*$/, '');

/**
 * The message for an etcd failure, naming endpoints and user (never the
 * password) and what to check. `reached` tells a refused login or call from
 * an etcd that could not be reached at all.
 */
export function describeEtcdFailure(err: Error, conn: EtcdConnectOptions, reached: boolean): string {
  const at = `etcd at ${conn.endpoints.join(',')}`;
  const who = conn.username !== undefined ? `user ${conn.username}` : 'no user';
  const password = `${ETCD_SETTINGS.password.env} or ${settingLabel('passwordFile')}`;
  const passwordHint = `Check ${settingLabel('user')} and the password in ${password}.`;
  if (err instanceof EtcdAuthenticationFailedError) {
    return `${at} refused the login of ${who}: wrong user name or password (${firstLine(err)}).\n${passwordHint}\n`;
  }
  if (err instanceof EtcdInvalidAuthTokenError) {
    return `${at} rejected the auth token of ${who} (${firstLine(err)}).\n${passwordHint}\n`;
  }
  if (/user name is empty/.test(err.message) || (err instanceof EtcdPermissionDeniedError && conn.username === undefined)) {
    return `${at} has authentication enabled and no user was given (${firstLine(err)}).\nGive ${settingLabel('user')} and its password in ${password}.\n`;
  }
  if (err instanceof EtcdPermissionDeniedError) {
    return `${at}: permission denied for ${who} (${firstLine(err)}).\nIts etcd roles lack a grant this command needs; \`spp etcd roles --help\` lists what each role grants.\n`;
  }
  if (!reached) {
    const tls = conn.caFile !== undefined ? `, the TLS files (${settingLabel('caFile')})` : '';
    return `cannot reach ${at}: ${firstLine(err)}\nCheck ${settingLabel('endpoints')}${tls} and that etcd is running.\n`;
  }
  return `${at} failed: ${firstLine(err)}\n`;
}

function within<T>(promise: Promise<T>, ms: number): { result: Promise<T>; clear: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswer(ms)), ms);
  });
  return { result: Promise.race([promise, deadline]), clear: () => clearTimeout(timer) };
}

/**
 * Connects with the shared --etcd-* options, proves etcd answers (and takes
 * the login) within a few seconds, runs `body` and closes the client. etcd
 * failures become exit code 1 with one message; anything else (usage errors,
 * the command's own errors) is the command's to report.
 */
export async function withEtcdClient(
  cmd: CliCommand,
  values: Values,
  io: Io,
  body: (client: Etcd3) => Promise<number>,
  opts: SessionOptions = {},
): Promise<number> {
  const name = `spp ${cmd.path.join(' ')}`;
  const conn = etcdConnectOptions(values, io.env);
  let client: Etcd3;
  try {
    client = connectEtcd({ ...conn, callTimeoutMs: CLI_CALL_TIMEOUT_MS });
  } catch (err) {
    // unreadable TLS files
    io.err(`${name}: cannot connect to etcd at ${conn.endpoints.join(',')}: ${(err as Error).message}\n`);
    return 1;
  }
  let reached = false;
  const budget = opts.budgetMs ?? CLI_TOTAL_TIMEOUT_MS;
  try {
    const probe = within(client.maintenance.status(), ETCD_PROBE_MS);
    await probe.result.finally(probe.clear);
    reached = true;
    if (budget === false) return await body(client);
    const run = within(body(client), budget);
    return await run.result.finally(run.clear);
  } catch (err) {
    if (!isEtcdFailure(err)) throw err;
    io.err(`${name}: ${describeEtcdFailure(err, conn, reached)}`);
    return 1;
  } finally {
    client.close();
  }
}
