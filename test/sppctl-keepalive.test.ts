/**
 * The HTTP transport keeps its connections to spp-ctl open, and survives a
 * server that closes one of them while it is idle: against a plain node:http
 * server on 127.0.0.1 whose behaviour per request is scripted.
 */

import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import test, { type ExecutionContext } from 'ava';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { errorOf } from './helpers/emulator';
import { sleep } from './helpers/wait';

/** What the server does with the n-th request (0-based) it reads, on whichever connection. */
type Script = (n: number, req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface Scripted {
  readonly url: string;
  /** Connections accepted. */
  connections: number;
  /** Requests read: method, path, body, and which connection (0-based) carried each. */
  readonly requests: Array<{ method: string; path: string; body: string; connection: number }>;
}

const ok: Script = (_n, _req, res) => {
  res.writeHead(204);
  res.end();
};

async function scripted(t: ExecutionContext, script: Script = ok, keepAliveTimeoutMs = 5000): Promise<Scripted> {
  const ids = new WeakMap<Socket, number>();
  const state: Scripted = { url: '', connections: 0, requests: [] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const n = state.requests.length;
      state.requests.push({ method: req.method ?? '', path: req.url ?? '', body, connection: ids.get(req.socket) ?? -1 });
      script(n, req, res, body);
    });
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (s: Socket) => ids.set(s, state.connections++));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

function client(t: ExecutionContext, url: string, timeoutMs = 2000): SppCtlClient {
  const transport = httpTransport(url, { timeoutMs });
  t.teardown(() => transport.close());
  return new SppCtlClient(transport);
}

const classifierAdd = { op: 'classifier_add', secId: 1, mac: 'fa:16:3e:00:00:01', port: 'ring:0' } as const;

test('sequential requests share one kept-alive connection', async (t) => {
  const server = await scripted(t, (n, req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify([{ type: 'primary' }, { type: 'vf', 'client-id': n + 1 }]));
    } else ok(n, req, res, '');
  });
  const c = client(t, server.url);
  for (let i = 0; i < 3; i++) await c.send(classifierAdd);
  const res = await c.request({ method: 'GET', path: '/v1/processes' });
  t.deepEqual(res, { status: 200, contentType: 'application/json', body: '[{"type":"primary"},{"type":"vf","client-id":4}]' });
  t.is(server.connections, 1);
  t.deepEqual(
    server.requests.map((r) => [r.method, r.path, r.connection]),
    [...Array.from({ length: 3 }, () => ['PUT', '/v1/vfs/1/classifier_table', 0]), ['GET', '/v1/processes', 0]],
  );
  t.deepEqual(JSON.parse(server.requests[0]!.body), { action: 'add', type: 'mac', mac_address: 'fa:16:3e:00:00:01', port: 'ring:0' });
});

test('requests in parallel (one per vf) get a connection each, reused afterwards', async (t) => {
  const server = await scripted(t, (n, req, res) => setTimeout(() => ok(n, req, res, ''), 20));
  const c = client(t, server.url);
  for (let round = 0; round < 3; round++) await Promise.all([1, 2, 3].map((secId) => c.send({ ...classifierAdd, secId })));
  t.is(server.requests.length, 9);
  t.is(server.connections, 3);
});

test('a server that closes idle connections: the next request opens a new one', async (t) => {
  const server = await scripted(t, ok, 30);
  const c = client(t, server.url);
  await c.send(classifierAdd);
  await sleep(200);
  await c.send(classifierAdd);
  t.deepEqual(
    server.requests.map((r) => r.connection),
    [0, 1],
  );
});

// The race the retry is for: the server closed a kept-alive connection while
// the client was putting the next request on it. Closing the connection as the
// request arrives, without a byte of answer, is what the client sees then.
for (const method of ['GET', 'PUT'] as const) {
  test(`a kept-alive connection reset before any answer (${method}): sent once more on a new connection`, async (t) => {
    const server = await scripted(t, (n, req, res) => {
      if (n === 1) req.socket.destroy();
      else ok(n, req, res, '');
    });
    const c = client(t, server.url);
    await c.send(classifierAdd);
    const second = method === 'GET' ? c.request({ method: 'GET', path: '/v1/processes' }) : c.send(classifierAdd);
    await t.notThrowsAsync(second);
    t.deepEqual(
      server.requests.map((r) => [r.method, r.connection]),
      [
        ['PUT', 0],
        [method, 0],
        [method, 1],
      ],
    );
  });
}

test('a reset on a new connection is not retried: unreachable, sent once', async (t) => {
  const server = await scripted(t, (_n, req) => req.socket.destroy());
  const err = await errorOf(client(t, server.url).send(classifierAdd));
  t.is(err.kind, 'unreachable');
  t.regex(err.message, /^PUT \/v1\/vfs\/1\/classifier_table: cannot reach spp-ctl at http:\/\/127\.0\.0\.1:\d+ \(ECONNRESET: socket hang up\)$/);
  t.is(server.requests.length, 1);
});

test('a kept-alive connection closed after part of the answer is not retried', async (t) => {
  const server = await scripted(t, (n, req, res) => {
    if (n === 0) return ok(n, req, res, '');
    // status line and headers sent, body cut short: spp-ctl got the request and started answering
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 100 });
    res.write('{"type": ');
    setTimeout(() => req.socket.destroy(), 10);
  });
  const c = client(t, server.url);
  await c.send(classifierAdd);
  const err = await errorOf(c.send(classifierAdd));
  t.is(err.kind, 'unreachable');
  t.is(server.requests.length, 2);
});

test('a timeout drops the connection; the next request gets a new one and the timeout message is unchanged', async (t) => {
  const server = await scripted(t, (n, req, res) => {
    if (n !== 1) ok(n, req, res, '');
    // the second request is never answered
  });
  const c = client(t, server.url, 150);
  await c.send(classifierAdd);
  const err = await errorOf(c.send(classifierAdd));
  t.is(err.kind, 'timeout');
  t.is(err.message, `PUT /v1/vfs/1/classifier_table: no answer from ${server.url} within 150 ms`);
  await c.send(classifierAdd);
  t.deepEqual(
    server.requests.map((r) => r.connection),
    [0, 0, 1],
  );
});

test('an error status passes through with its body and content type, and the connection stays in use', async (t) => {
  const server = await scripted(t, (n, req, res) => {
    if (n === 0) {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('command error: bad value(mac_address)');
    } else ok(n, req, res, '');
  });
  const c = client(t, server.url);
  const err = await errorOf(c.send(classifierAdd));
  t.deepEqual(
    [err.kind, err.status, err.body, err.message],
    ['http', 400, 'command error: bad value(mac_address)', 'PUT /v1/vfs/1/classifier_table: 400 command error: bad value(mac_address)'],
  );
  await c.send(classifierAdd);
  t.is(server.connections, 1);
});
