/**
 * The visualizer's HTTP server: one static page and a read-only JSON API
 * over either a running controller (live, with Server-Sent Events) or a
 * list of replay frames. Every method but GET answers 405, so exposing it
 * can never change what the agent does.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Observable, Subscription } from 'rxjs';
import type { ControllerView, ViewFrame } from '../agent/controller';
import { PageView, pageView } from './compare';
import { agentMachineGraphs } from './machine-graph';
import { layoutGraph } from './layout';

export type VizSource =
  | {
      readonly kind: 'live';
      view(): ControllerView;
      readonly changes: Observable<unknown>;
      /** The agent machine's state, for the page's agent diagram (a bare controller has none). */
      agentState?(): string;
    }
  | { readonly kind: 'frames'; readonly frames: readonly ViewFrame[] };

export interface VizServerOptions {
  readonly listen: { readonly host?: string; readonly port: number };
  readonly source: VizSource;
  /** Most pushes per second to each live page (default 10). */
  readonly maxUpdatesPerSecond?: number;
}

export interface VizServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Where the page's files live: src/viz/static/ beside dist/ (tsc copies no
 * assets), in a checkout and in the installed package alike (package.json's
 * `files` ships the folder).
 */
export const STATIC_DIR = join(__dirname, '..', '..', '..', 'src', 'viz', 'static');

const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

export async function startVizServer(options: VizServerOptions): Promise<VizServer> {
  const { source } = options;
  await access(join(STATIC_DIR, 'index.html')).catch(() => {
    throw new Error(`the visualizer's page is missing: ${join(STATIC_DIR, 'index.html')} (a package built without src/viz/static/?)`);
  });
  const host = options.listen.host ?? '127.0.0.1';
  const minGapMs = 1000 / (options.maxUpdatesPerSecond ?? 10);
  // The machine definitions do not change while the process runs.
  const machines = Object.entries(agentMachineGraphs()).map(([name, graph]) => ({ name, graph, layout: layoutGraph(graph) }));
  const streams = new Set<ServerResponse>();
  let subscription: Subscription | undefined;
  let lastPush = 0;
  let pending: NodeJS.Timeout | undefined;

  const push = (): void => {
    pending = undefined;
    if (source.kind !== 'live' || streams.size === 0) return;
    lastPush = Date.now();
    const data = `data: ${JSON.stringify(livePage())}\n\n`;
    for (const res of streams) res.write(data);
  };
  /** Leading and trailing edge: the first change shows at once, a burst ends with its last state. */
  const schedule = (): void => {
    if (pending) return;
    const wait = Math.max(0, lastPush + minGapMs - Date.now());
    pending = setTimeout(push, wait);
  };
  if (source.kind === 'live') subscription = source.changes.subscribe({ next: schedule });

  const livePage = (): PageView => {
    if (source.kind !== 'live') throw new Error('not a live source');
    const agent = source.agentState?.();
    return { ...pageView(source.view()), ...(agent ? { agentState: agent } : {}) };
  };
  const currentView = (): PageView | undefined => {
    if (source.kind === 'live') return livePage();
    const last = source.frames[source.frames.length - 1];
    return last ? pageView(last.view) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET', 'content-type': 'text/plain; charset=utf-8' });
      res.end(`405: the visualizer is read-only; ${req.method} is not allowed\n`);
      return;
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const asset = ASSETS[path];
    if (asset) {
      const body = await readFile(join(STATIC_DIR, asset.file));
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-store' });
      res.end(body);
      return;
    }
    switch (path) {
      case '/api/info':
        return json(res, 200, { source: source.kind, frames: source.kind === 'frames' ? source.frames.length : 0 });
      case '/api/view': {
        const view = currentView();
        return view ? json(res, 200, view) : json(res, 404, { error: 'the replay has no frames' });
      }
      case '/api/machines':
        return json(res, 200, { machines });
      case '/api/frames':
        if (source.kind !== 'frames') return json(res, 404, { error: 'not serving a replay: this is a live agent (see /api/view and /api/events)' });
        return json(res, 200, { frames: source.frames.map((f) => ({ revision: f.revision, label: f.label, view: pageView(f.view) })) });
      case '/api/events': {
        if (source.kind !== 'live') return json(res, 404, { error: 'a replay has no live updates: see /api/frames' });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`retry: 1000\ndata: ${JSON.stringify(livePage())}\n\n`);
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }
      default:
        return json(res, 404, { error: `no such page: ${path}` });
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listen.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: async () => {
      subscription?.unsubscribe();
      if (pending) clearTimeout(pending);
      for (const res of streams) res.end();
      streams.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

