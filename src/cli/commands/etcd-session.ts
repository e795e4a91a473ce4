/**
 * How a CLI command reaches etcd: endpoints from --etcd-endpoints or
 * SPP_ETCD_ENDPOINTS, a call deadline so a dead cluster fails in seconds, and
 * one clear message naming the endpoints instead of a gRPC stack trace.
 */
import { ClientClosedError, ClientRuntimeError, Etcd3, EtcdError, GRPCGenericError } from 'etcd3';
import { connectEtcd, splitEndpoints } from '../../etcd/connect';
import { Io, UsageError, Values, str } from '../framework';

/** Per-call deadline of CLI commands (etcd3 retries a call that times out, hence also a total budget). */
export const CLI_CALL_TIMEOUT_MS = 2000;
/** Budget for a whole command's etcd work: its few calls take milliseconds on a healthy cluster. */
export const CLI_TOTAL_TIMEOUT_MS = 5000;

class NoAnswer extends Error {
  constructor() {
    super(`DEADLINE_EXCEEDED: no answer within ${CLI_TOTAL_TIMEOUT_MS / 1000} s`);
  }
}

export function endpointsOf(values: Values, io: Io): string[] {
  const raw = str(values, 'etcd-endpoints') ?? (io.env.SPP_ETCD_ENDPOINTS || undefined);
  const endpoints = splitEndpoints(raw);
  if (endpoints.length === 0) throw new UsageError(`--etcd-endpoints ${JSON.stringify(raw)} lists no endpoint`);
  return endpoints;
}

function isEtcdFailure(err: unknown): err is Error {
  return (
    err instanceof GRPCGenericError ||
    err instanceof ClientRuntimeError ||
    err instanceof ClientClosedError ||
    err instanceof EtcdError ||
    err instanceof NoAnswer ||
    (err instanceof Error && /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED/.test(err.message))
  );
}

/**
 * Runs `body` with a connected client and closes it afterwards. etcd errors
 * become exit code 1 with a message naming the endpoints; anything else is
 * the command's to report.
 */
export async function withEtcdClient(values: Values, io: Io, body: (client: Etcd3) => Promise<number>): Promise<number> {
  const endpoints = endpointsOf(values, io);
  const client = connectEtcd({ endpoints, callTimeoutMs: CLI_CALL_TIMEOUT_MS });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswer()), CLI_TOTAL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([body(client), deadline]);
  } catch (err) {
    if (!isEtcdFailure(err)) throw err;
    io.err(
      `spp: cannot use etcd at ${endpoints.join(',')}: ${err.message.split('\n')[0]!.replace(/\s*Resolution note:.*$/, '')}\n` +
        'Check --etcd-endpoints (or SPP_ETCD_ENDPOINTS) and that etcd is running.\n',
    );
    return 1;
  } finally {
    clearTimeout(timer);
    client.close();
  }
}
