/**
 * The agent's ops endpoint (`--ops HOST:PORT`): /metrics (Prometheus text),
 * /livez, /readyz, and /view (the controller's live view as JSON, for `spp
 * explain` and `spp report`). Read-only: every method but GET and HEAD
 * answers 405 (HEAD is GET without the body). Only the host names it was
 * bound for are answered (src/http-guard.ts). Separate from the visualizer
 * (--ui): either runs alone.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGuardedServer, type HostGuardOptions } from '../http-guard';
import type { Readiness } from './readiness';

export interface OpsSource {
  metrics(): Promise<string>;
  readonly contentType: string;
  readiness(): Readiness;
  stopping(): boolean;
  /** Why the agent's etcd client is stuck (its watchdog fired): /livez fails with it. */
  stuck?(): string | undefined;
  /** The live view served at /view. */
  view(): unknown;
}

export interface OpsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const OPS_PATHS = ['/metrics', '/livez', '/readyz', '/view'] as const;

export async function startOpsServer(
  listen: { readonly host?: string; readonly port: number },
  source: OpsSource,
  guard: HostGuardOptions = {},
): Promise<OpsServer> {
  const text = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body.endsWith('\n') ? body : `${body}\n`);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'read-only: GET only');
    }
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    switch (path) {
      case '/metrics':
        res.writeHead(200, { 'content-type': source.contentType, 'cache-control': 'no-store' });
        res.end(await source.metrics());
        return;
      case '/livez': {
        const stuck = source.stuck?.();
        if (stuck) return text(res, 503, `stuck: ${stuck}`);
        return source.stopping() ? text(res, 503, 'stopping') : text(res, 200, 'ok');
      }
      case '/readyz': {
        const r = source.readiness();
        if (!r.ready) return text(res, 503, `not ready: ${r.reason}`);
        return text(res, 200, r.warnings ? ['ok', ...r.warnings.map((w) => `warning: ${w}`)].join('\n') : 'ok');
      }
      case '/view':
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(JSON.stringify(source.view()));
        return;
      default:
        return text(res, 404, `not found; paths: ${OPS_PATHS.join(' ')}`);
    }
  };
  const server = createGuardedServer(
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) text(res, 500, `error: ${err instanceof Error ? err.message : String(err)}`);
        else res.destroy();
      });
    },
    { ...guard, boundAs: listen.host ?? '127.0.0.1' },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
