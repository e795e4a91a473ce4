import test from 'ava';
import { Subject } from 'rxjs';
import type { ControllerView, ViewFrame } from '../src/agent/view';
import { parseListen } from '../src/listen';
import type { PageView } from '../src/viz/compare';
import { startVizServer, type VizServer } from '../src/viz/server';
import { runCli } from './helpers/cli';
import { buildFrames, FRAME_PORT } from './helpers/frames';

let frames: ViewFrame[] = [];
test.before(async () => {
  frames = await buildFrames();
});

async function serve(t: { teardown(f: () => Promise<void>): void }, source: Parameters<typeof startVizServer>[0]['source']): Promise<VizServer> {
  const server = await startVizServer({ listen: { port: 0 }, source });
  t.teardown(() => server.close());
  return server;
}

const get = async (server: VizServer, path: string): Promise<{ status: number; body: unknown; type: string | null }> => {
  const res = await fetch(new URL(path, server.url));
  const type = res.headers.get('content-type');
  return { status: res.status, type, body: type?.startsWith('application/json') ? await res.json() : await res.text() };
};

test('replay frames: the API serves every frame, the last one as the view, and no event stream', async (t) => {
  const server = await serve(t, { kind: 'frames', frames });
  t.regex(server.url, /^http:\/\/127\.0\.0\.1:[0-9]+\/$/);
  t.deepEqual((await get(server, '/api/info')).body, { source: 'frames', frames: frames.length });
  const all = (await get(server, '/api/frames')).body as { frames: Array<{ revision: number; label: string; view: PageView }> };
  t.is(all.frames.length, frames.length);
  t.deepEqual(
    all.frames.map((f) => f.revision),
    frames.map((f) => f.revision),
  );
  const plugged = all.frames.find((f) => f.view.ports.some((p) => p.state === 'plugged.steady'));
  t.truthy(plugged, 'some frame has the port plugged');
  t.deepEqual(
    plugged!.view.compare[FRAME_PORT]!.map((r) => r.same),
    [true, true, true],
    'after the plug desired and observed agree',
  );
  const view = (await get(server, '/api/view')).body as PageView;
  t.is(view.revision, frames[frames.length - 1]!.revision);
  t.is((await get(server, '/api/events')).status, 404);
  const page = await get(server, '/');
  t.is(page.status, 200);
  t.regex(String(page.type), /^text\/html/);
  t.regex(String(page.body), /<script src="app.js"><\/script>/);
  t.regex(String((await get(server, '/app.js')).body), /EventSource/);
  const machines = (await get(server, '/api/machines')).body as { machines: Array<{ name: string; layout: { boxes: unknown[] } }> };
  t.deepEqual(
    machines.machines.map((m) => m.name),
    ['port', 'nic', 'agent'],
  );
  t.is((await get(server, '/nope')).status, 404);
});

test('read-only: every method but GET and HEAD answers 405', async (t) => {
  const server = await serve(t, { kind: 'frames', frames });
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    for (const path of ['/', '/api/view', '/api/frames']) {
      const res = await fetch(new URL(path, server.url), { method, body: method === 'DELETE' ? undefined : '{}' });
      t.is(res.status, 405, `${method} ${path}`);
      t.is(res.headers.get('allow'), 'GET, HEAD');
    }
  }
});

function minimalView(revision: number): ControllerView {
  return { host: 'spp4', vhosts: [], revision, configuration: 'missing', configurationErrors: [], nics: [], ports: [] };
}

/** Reads Server-Sent Events `data:` payloads as they arrive. */
async function sse(url: string): Promise<{ next(): Promise<PageView>; close(): void }> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  if (res.headers.get('content-type') !== 'text/event-stream') throw new Error(`not an event stream: ${res.headers.get('content-type')}`);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const ready: PageView[] = [];
  return {
    async next() {
      for (;;) {
        const queued = ready.shift();
        if (queued) return queued;
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data) ready.push(JSON.parse(data) as PageView);
        }
      }
    },
    close: () => controller.abort(),
  };
}

test('live: the event stream starts with the current view and pushes the view after a change; a burst ends on its last state', async (t) => {
  let current = minimalView(1);
  const changes = new Subject<unknown>();
  const server = await serve(t, { kind: 'live', view: () => current, changes });
  t.deepEqual((await get(server, '/api/info')).body, { source: 'live', frames: 0 });
  t.is((await get(server, '/api/frames')).status, 404);
  const stream = await sse(new URL('/api/events', server.url).href);
  t.teardown(() => stream.close());
  t.is((await stream.next()).revision, 1);
  current = minimalView(2);
  changes.next({});
  t.is((await stream.next()).revision, 2);
  // 50 changes in one tick: throttled, and the push that follows shows the last of them
  for (let r = 3; r <= 52; r++) {
    current = minimalView(r);
    changes.next({ portId: String(r) });
  }
  const after = await stream.next();
  t.is(after.revision, 52);
  t.is(((await get(server, '/api/view')).body as PageView).revision, 52);
});

test('--ui: HOST:PORT, [v6]:PORT or PORT (loopback); anything else is refused naming the setting', async (t) => {
  t.deepEqual(parseListen('127.0.0.1:8080'), { host: '127.0.0.1', port: 8080 });
  t.deepEqual(parseListen('9000'), { host: '127.0.0.1', port: 9000 });
  t.deepEqual(parseListen('[::1]:0'), { host: '::1', port: 0 });
  t.throws(() => parseListen('localhost:http'), { message: /--ui: expected HOST:PORT .* got "localhost:http"/ });
  t.throws(() => parseListen('127.0.0.1:70000'), { message: /got "127.0.0.1:70000"/ });
  const r = await runCli(['agent', '--ui', '127.0.0.1:', '--host', 'spp4']);
  t.is(r.code, 2);
  t.regex(r.err, /visualizer address \(flag --ui\): expected HOST:PORT/);
});
