/**
 * node:http around the emulator, plus the `/_sim/` hooks that the real
 * spp-ctl does not have (documented in docs/emulator.md). It answers only
 * the host names it was bound for and refuses cross-origin writes
 * (src/http-guard.ts).
 */
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGuardedServer } from '../../http-guard';
import { ConnectionDropped, createEmulator, type Emulator, type EmulatorOptions, type FaultSpec } from './emulator';
import type { RestResponse } from './restapi';

export interface ServerOptions extends EmulatorOptions {
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** Host names it answers to besides its own address and the loopback names (spp sim --allow-host). */
  readonly allowHosts?: readonly string[];
  /** Called for every answered spp-ctl request (the CLI logs them at debug). */
  readonly onRequest?: (method: string, path: string, status: number | null, ms: number) => void;
}

export interface EmulatorServer {
  readonly url: string;
  readonly port: number;
  readonly emulator: Emulator;
  close(): Promise<void>;
}

const plain = (status: number, body: string): RestResponse => ({ status, contentType: 'text/plain', body });
const jsonRes = (data: unknown): RestResponse => ({ status: 200, contentType: 'application/json', body: JSON.stringify(data) });

/** Parses a hook body: a JSON object, or an empty body meaning {}. */
function hookBody(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  const v: unknown = JSON.parse(body);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('body must be a JSON object');
  return v as Record<string, unknown>;
}

function optNumber(b: Record<string, unknown>, key: string): number | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${key} must be a number >= 0, got ${JSON.stringify(v)}`);
  return v;
}

/** The `/_sim/` hooks; undefined for other paths. */
export function simHook(emulator: Emulator, method: string, path: string, body: string): RestResponse | undefined {
  if (!path.startsWith('/_sim/')) return undefined;
  try {
    const b = method === 'GET' || method === 'DELETE' ? {} : hookBody(body);
    if (path === '/_sim/log' && method === 'GET') return jsonRes(emulator.log());
    if (path === '/_sim/log' && method === 'DELETE') {
      emulator.clearLog();
      return { status: 204, body: '' };
    }
    if (path === '/_sim/latency' && method === 'PUT') {
      const ms = optNumber(b, 'ms');
      if (ms === undefined) throw new Error('ms is required');
      emulator.setLatency(ms);
      return { status: 204, body: '' };
    }
    if (path === '/_sim/poll-interval' && method === 'PUT') {
      const ms = optNumber(b, 'ms');
      if (ms === undefined) throw new Error('ms is required');
      emulator.setPollInterval(ms);
      return { status: 204, body: '' };
    }
    if (path === '/_sim/faults' && method === 'POST') {
      const action = b.action;
      if (action !== undefined && action !== 'error' && action !== 'drop') throw new Error(`action must be "error" or "drop", got ${JSON.stringify(action)}`);
      const when = b.when;
      if (when !== undefined && when !== 'before' && when !== 'after') throw new Error(`when must be "before" or "after", got ${JSON.stringify(when)}`);
      for (const k of ['path', 'method'] as const) if (b[k] !== undefined && typeof b[k] !== 'string') throw new Error(`${k} must be a string`);
      if (typeof b.path === 'string') new RegExp(b.path);
      const count = optNumber(b, 'count');
      if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new Error(`count must be an integer >= 1, got ${count}`);
      emulator.addFault({ ...(b as FaultSpec), ...(count !== undefined ? { count } : {}) });
      return { status: 204, body: '' };
    }
    if (path === '/_sim/faults' && method === 'DELETE') {
      emulator.clearFaults();
      return { status: 204, body: '' };
    }
    const m = /^\/_sim\/(vfs|mirrors)\/([0-9]+)\/(restart|appear-after)$/.exec(path);
    if (m && method === 'POST') {
      const secId = Number(m[2]);
      const mirror = m[1] === 'mirrors';
      if (!(mirror ? emulator.mirrorIds() : emulator.secIds()).includes(secId)) return plain(404, `the emulator has no ${mirror ? 'mirror' : 'vf'} ${secId}`);
      if (m[3] === 'restart') emulator.restartVf(secId, optNumber(b, 'downMs') ?? 0);
      else emulator.appearAfter(secId, optNumber(b, 'ms'));
      return { status: 204, body: '' };
    }
    return plain(404, `no emulator hook ${method} ${path}`);
  } catch (err) {
    return plain(400, (err as Error).message);
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startEmulatorServer(options: ServerOptions = {}): Promise<EmulatorServer> {
  const emulator = createEmulator(options);
  const host = options.listen?.host ?? '127.0.0.1';
  // A browser must neither read it from another origin nor make it change: writes carrying a foreign Origin are refused.
  const server = createGuardedServer(
    (req, res) => {
      const started = Date.now();
      const head = req.method === 'HEAD';
      // HEAD is GET without the body (the body is dropped below)
      const method = head ? 'GET' : (req.method ?? 'GET');
      const path = req.url ?? '/';
      void (async () => {
        const body = await readBody(req);
        let out = simHook(emulator, method, path.split('?')[0]!, body);
        if (!out) {
          const hasBody = method === 'POST' || method === 'PUT';
          try {
            out = await emulator.handle({ method, path, body: hasBody ? body : undefined });
          } catch (err) {
            options.onRequest?.(method, path, null, Date.now() - started);
            if (err instanceof ConnectionDropped) {
              req.socket.destroy();
              return;
            }
            out = plain(500, 'Internal Server Error');
          }
          options.onRequest?.(method, path, out.status, Date.now() - started);
        }
        const headers: Record<string, string | number> = { 'Content-Length': Buffer.byteLength(out.body) };
        if (out.contentType) headers['Content-Type'] = out.contentType;
        res.writeHead(out.status, headers);
        res.end(head ? undefined : out.body);
      })().catch(() => req.socket.destroy());
    },
    { boundAs: host, refuseCrossOriginWrites: true, ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}) },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen?.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    emulator,
    close: () =>
      new Promise<void>((resolve) => {
        emulator.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
