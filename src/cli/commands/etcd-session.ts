/**
 * How a CLI command reaches etcd: endpoints from --etcd-endpoints or
 * SPP_ETCD_ENDPOINTS, a call deadline so a dead cluster fails in seconds, and
 * one clear message naming the endpoints instead of a gRPC stack trace.
 */
import { ClientClosedError, ClientRuntimeError, Etcd3, EtcdError, GRPCGenericError } from 'etcd3';
import { connectEtcd, splitEndpoints } from '../../etcd/connect';
import { Io, UsageError, Values, str } from '../framework';

/** Per-call deadline of CLI commands. */
export const CLI_CALL_TIMEOUT_MS = 5000;

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
  try {
    return await body(client);
  } catch (err) {
    if (!isEtcdFailure(err)) throw err;
    const deadline = /DEADLINE_EXCEEDED/i.test(err.message) || err.name.includes('Deadline');
    io.err(
      `spp: cannot use etcd at ${endpoints.join(',')}` +
        `${deadline ? ` (no answer within ${CLI_CALL_TIMEOUT_MS / 1000} s)` : ''}: ${err.message.split('\n')[0]!.replace(/\s*Resolution note:.*$/, '')}\n` +
        'Check --etcd-endpoints (or SPP_ETCD_ENDPOINTS) and that etcd is running.\n',
    );
    return 1;
  } finally {
    client.close();
  }
}
