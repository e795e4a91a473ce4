/** A listen address of one of spp's servers (the visualizer's --ui, `spp viz --listen`, `spp sim --listen`), and starting an auxiliary one. */
import { createServer } from 'node:net';
import type { Logger } from './log';

/** Parses `HOST:PORT`, `[v6]:PORT` or a bare `PORT` (loopback, the default: the page shows every port's state). */
export function parseListen(value: string, what = '--ui'): { host: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:]+):)?([0-9]+)$/.exec(value.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${what}: expected HOST:PORT (e.g. 127.0.0.1:8080) or PORT, got ${JSON.stringify(value)}`);
  }
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  return { host, port };
}

/**
 * An auxiliary server of the agent (the page, the ops endpoint) once it
 * listens: its URL is logged, and a server that cannot listen is logged
 * with why and left out (undefined): the agent keeps working without it.
 */
export function auxiliary<S extends { readonly url: string }>(
  started: Promise<S>,
  log: Logger,
  name: string,
  listening: string,
  fields: Record<string, unknown>,
): Promise<S | undefined> {
  return started.then(
    (server) => {
      log.info(`${name} listening ${listening}`, { url: server.url });
      return server;
    },
    (err: unknown) => {
      log.error(`${name} could not listen; running without it`, { ...fields, error: err instanceof Error ? err.message : String(err) });
      return undefined;
    },
  );
}

/** Why `listen` cannot be listened on now (e.g. "in use (EADDRINUSE)"), or undefined when it can: a check before starting servers on fixed ports. */
export function listenProblem(listen: { readonly host: string; readonly port: number }): Promise<string | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      const why: Record<string, string> = { EADDRINUSE: 'in use', EACCES: 'not allowed', EADDRNOTAVAIL: 'not an address of this machine' };
      resolve(`${why[err.code ?? ''] ?? 'not available'} (${err.code ?? err.message})`);
    });
    srv.listen(listen.port, listen.host, () => srv.close(() => resolve(undefined)));
  });
}
