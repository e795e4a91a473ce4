/**
 * The visualizer's HTTP server: one static page and a read-only JSON API
 * over a running controller (live, with Server-Sent Events), a list of
 * replay frames, or a whole cluster's keys in etcd (live, no agent needed).
 * Every method but GET answers 405, so exposing it can never change what
 * the agent does.
 */

import { access, readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Observable, Subscription } from 'rxjs';
import type { ControllerView, ViewFrame } from '../agent/view';
import type { ClusterView, ClusterWatch } from './cluster';
import { layoutGraph } from './graph-layout';
import { type HostKeys, type HostPage, hostPage } from './host-page';
import { agentMachineGraphs } from './machine-graph';

export type VizSource =
  | {
      readonly kind: 'live';
      view(): ControllerView;
      readonly changes: Observable<unknown>;
      /** The agent machine's state, for the page's agent diagram (a bare controller has none). */
      agentState?(): string;
      /** Why the agent is not ready, as /readyz says it (with the etcd cause); undefined when ready. */
      notReady?(): string | undefined;
      /** The host's keys in the agent's cache: the port panel then shows `spp explain`'s explanation. */
      keys?(): HostKeys;
    }
  | { readonly kind: 'frames'; readonly frames: readonly ViewFrame[] }
  | {
      readonly kind: 'cluster';
      readonly cluster: ClusterWatch;
      /** Where each host's agent serves its page: drilling into the host shows that agent's live view. */
      readonly agentUi: ReadonlyMap<string, string>;
    };

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
    if (source.kind === 'frames' || streams.size === 0) return;
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
  if (source.kind === 'cluster') subscription = source.cluster.changes.subscribe({ next: schedule });

  const livePage = (): HostPage | ClusterView => {
    if (source.kind === 'cluster') return source.cluster.view();
    if (source.kind !== 'live') throw new Error('not a live source');
    const agent = source.agentState?.();
    const notReady = source.notReady?.();
    return { ...hostPage(source.view(), Date.now(), source.keys?.(), agent), ...(agent ? { agentState: agent } : {}), ...(notReady ? { notReady } : {}) };
  };
  const currentView = (): HostPage | ClusterView | undefined => {
    if (source.kind !== 'frames') return livePage();
    const last = source.frames[source.frames.length - 1];
    return last ? hostPage(last.view) : undefined;
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
        return json(res, 200, { frames: source.frames.map((f) => ({ revision: f.revision, label: f.label, view: hostPage(f.view) })) });
      case '/api/events': {
        if (source.kind === 'frames') return json(res, 404, { error: 'a replay has no live updates: see /api/frames' });
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`retry: 1000\ndata: ${JSON.stringify(livePage())}\n\n`);
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return;
      }
      default:
        if (path.startsWith('/api/hosts/')) {
          if (source.kind !== 'cluster') return json(res, 404, { error: 'not serving a cluster view (spp viz --etcd-endpoints)' });
          const name = decodeURIComponent(path.slice('/api/hosts/'.length));
          const etcd = source.cluster.host(name);
          if (!etcd) return json(res, 404, { error: `no key in etcd names host ${name}` });
          const ui = source.agentUi.get(name);
          return json(res, 200, { host: name, etcd, ...(ui ? { agentUi: ui, ...(await agentView(ui)) } : {}) });
        }
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

/** The live view of an agent serving --ui, fetched by the server (the page never talks to another origin). */
async function agentView(ui: string): Promise<{ agent: HostPage } | { agentError: string }> {
  const url = new URL('api/view', ui.endsWith('/') ? ui : `${ui}/`);
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) return { agentError: `${url}: HTTP ${res.status}` };
    return { agent: (await res.json()) as HostPage };
  } catch (err) {
    return { agentError: `${url}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}` };
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
