/**
 * Issue 26, section 3: every HTTP listener (the agent's page and ops
 * endpoint, `spp viz`, the emulator) answers only the host names it was
 * bound for, sends the browser security headers, answers HEAD as GET, and
 * the emulator refuses cross-origin writes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { fromEnv, fromIniFile, resolveSettings } from '../src/daemon/settings';
import { allowedHostNames, hostnameOf, SECURITY_HEADERS } from '../src/http-guard';
import { startEmulatorServer } from '../src/sppctl/emulator';
import { STATIC_DIR, startVizServer } from '../src/viz/server';
import { runCli } from './helpers/cli';
import { buildFrames } from './helpers/frames';
import { opsUrl } from './helpers/ops';
import { startSystem, until } from './helpers/system';

interface Raw {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request with exactly these headers (fetch would set Host itself). */
function raw(url: string, method: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, path: u.pathname, method, headers, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      // a HEAD of the event stream ends at once; any other stream is not read to its end here
      if ((res.headers['content-type'] ?? '').startsWith('text/event-stream') && method !== 'HEAD') {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
        res.destroy();
      }
    });
    req.on('error', reject);
    req.end(body);
  });
}

const portOf = (url: string): string => new URL(url).port;

/** The checks every listener must pass, on one of its paths. */
async function checkListener(t: ExecutionContext, name: string, url: string, path: string, allowed: string): Promise<void> {
  const port = portOf(url);
  const target = new URL(path, url).toString();
  for (const host of [`127.0.0.1:${port}`, '127.0.0.1', `localhost:${port}`, `[::1]:${port}`, 'LOCALHOST', allowed, `${allowed}:${port}`]) {
    const res = await raw(target, 'GET', { host });
    t.is(res.status, 200, `${name}: Host ${host} is answered`);
    for (const [header, value] of Object.entries(SECURITY_HEADERS)) t.is(res.headers[header], value, `${name}: ${header} with Host ${host}`);
  }
  for (const host of ['evil.example', `evil.example:${port}`, '127.0.0.1.evil.example', `${allowed}.evil.example`, '']) {
    const res = await raw(target, 'GET', { host });
    t.is(res.status, 421, `${name}: Host ${JSON.stringify(host)} is refused`);
    t.regex(res.body, /does not answer to host .*--allow-host/, `${name}: the refusal says why`);
    t.is(res.headers['x-frame-options'], 'DENY', `${name}: a refusal carries the headers too`);
  }
  const get = await raw(target, 'GET', { host: `127.0.0.1:${port}` });
  const head = await raw(target, 'HEAD', { host: `127.0.0.1:${port}` });
  t.is(head.status, get.status, `${name}: HEAD is answered as GET`);
  t.is(head.headers['content-type'], get.headers['content-type'], `${name}: HEAD has GET's content type`);
  t.is(head.body, '', `${name}: HEAD has no body`);
  t.is((await raw(target, 'HEAD', { host: 'evil.example' })).status, 421, `${name}: HEAD with a foreign Host is refused`);
}

test('host names: ports and brackets are dropped; loopback always, the bound address, and every interface for a wildcard bind', (t) => {
  t.is(hostnameOf('127.0.0.1:80'), '127.0.0.1');
  t.is(hostnameOf('[::1]:7780'), '::1');
  t.is(hostnameOf('Spp4.Example.'), 'spp4.example');
  t.is(hostnameOf('a b'), undefined);
  t.is(hostnameOf('[::1'), undefined);
  // tests name loopback addresses only: 127.0.0.2 stands for any address the listener was bound to
  const bound = allowedHostNames(['127.0.0.2']);
  t.true(bound.has('127.0.0.2'));
  t.true(bound.has('localhost') && bound.has('127.0.0.1') && bound.has('::1'));
  t.false(bound.has('127.0.0.3'));
  t.true(allowedHostNames(['::1'], ['node7.example']).has('node7.example'));
  const wildcard = allowedHostNames(['::']);
  t.false(wildcard.has('::'), 'a wildcard is not a name a client uses');
  t.true(wildcard.size >= 3);
});

test('spp viz (replay frames): only its host names, security headers, HEAD as GET', async (t) => {
  const server = await startVizServer({ listen: { port: 0 }, allowHosts: ['viz.example'], source: { kind: 'frames', frames: await buildFrames() } });
  t.teardown(() => server.close());
  for (const path of ['/', '/app.js', '/style.css', '/api/view', '/api/machines']) await checkListener(t, `viz ${path}`, server.url, path, 'viz.example');
});

test('the static page has no inline script, style or event handler, so the policy (script-src and style-src self) blocks none of it', (t) => {
  const html = readFileSync(join(STATIC_DIR, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  t.true(scripts.length > 0);
  for (const [, attrs, body] of scripts) {
    t.regex(attrs!, /\bsrc=/, 'every script is a file');
    t.is(body!.trim(), '', 'no inline script');
  }
  t.notRegex(html, /<style\b/i, 'no inline style element');
  t.notRegex(html, /\sstyle=/i, 'no style attribute');
  t.notRegex(html, /\son[a-z]+=/i, 'no inline event handler');
  t.notRegex(html, /javascript:/i);
  const app = readFileSync(join(STATIC_DIR, 'app.js'), 'utf8');
  t.notRegex(app, /\sstyle=|\son[a-z]+=["']|\beval\(|new Function\(/, 'the script writes no inline style or handler either');
});

test('spp-ctl emulator: only its host names, HEAD as GET, and writes from another origin are refused', async (t) => {
  const sim = await startEmulatorServer({ vfs: [{ secId: 1, coreMask: '0xfe' }], allowHosts: ['sim.example'] });
  t.teardown(() => sim.close());
  await checkListener(t, 'emulator', sim.url, '/v1/processes', 'sim.example');
  const port = portOf(sim.url);
  const component = (name: string): string => JSON.stringify({ name, core: 2, type: 'forward' });
  const json = { 'content-type': 'application/json' };
  const before = sim.emulator.log().length;
  for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', 'http://127.0.0.1.evil.example']) {
    const res = await raw(`${sim.url}/v1/vfs/1/components`, 'POST', { host: `127.0.0.1:${port}`, origin, ...json }, component('fw1'));
    t.is(res.status, 403, `a POST from origin ${origin} is refused`);
    t.regex(res.body, /origin/);
  }
  t.is(sim.emulator.log().length, before, 'no refused write reached the emulator');
  t.is((await raw(`${sim.url}/_sim/faults`, 'DELETE', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' })).status, 403, 'nor a hook');
  // its own origin, the allowed names, and clients that send no Origin (spp-ctl clients) may write
  t.is(
    (await raw(`${sim.url}/v1/vfs/1/components`, 'POST', { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}`, ...json }, component('fw1'))).status,
    204,
  );
  t.is(
    (await raw(`${sim.url}/v1/vfs/1/components`, 'POST', { host: `127.0.0.1:${port}`, origin: 'http://sim.example', ...json }, component('fw2'))).status,
    204,
  );
  t.is((await raw(`${sim.url}/v1/vfs/1/components`, 'POST', { host: `127.0.0.1:${port}`, ...json }, component('fw3'))).status, 204);
  // a read from another origin gets its answer, but the browser keeps it from the page (no CORS header)
  const read = await raw(`${sim.url}/v1/vfs/1`, 'GET', { host: `127.0.0.1:${port}`, origin: 'http://evil.example' });
  t.is(read.status, 200);
  t.is(read.headers['access-control-allow-origin'], undefined);
});

test("the agent's page (--ui) and ops endpoint (--ops), with --allow-host from SPP_ALLOW_HOST's setting, against a real etcd", async (t) => {
  const s = await startSystem(t, { settings: { ui: '127.0.0.1:0', ops: '127.0.0.1:0', allowHost: 'node7.example, node7' } });
  const viz = await until(() => s.agent?.viz, 'the page listening');
  const ops = await opsUrl(s.agent);
  await until(async () => (await fetch(`${ops}/readyz`)).status === 200, 'the agent ready');
  for (const path of ['/', '/api/view']) await checkListener(t, `--ui ${path}`, viz.url, path, 'node7.example');
  await checkListener(t, '--ui /', viz.url, '/', 'node7');
  for (const path of ['/metrics', '/livez', '/readyz', '/view']) await checkListener(t, `--ops ${path}`, ops, path, 'node7.example');
  const events = await raw(new URL('/api/events', viz.url).toString(), 'HEAD', { host: `127.0.0.1:${portOf(viz.url)}` });
  t.is(events.status, 200, "HEAD of the page's event stream");
  t.is(events.body, '');
  t.is((await raw(new URL('/api/events', viz.url).toString(), 'GET', { host: 'evil.example' })).status, 421, 'no event stream for a foreign Host');
});

test('--allow-host, SPP_ALLOW_HOST and ini allow_host: names are checked, a bad one is a usage error naming the setting', async (t) => {
  t.deepEqual(resolveSettings({ allowHost: 'a.example,b' }).allowHosts, ['a.example', 'b']);
  t.deepEqual(resolveSettings(fromEnv({ SPP_ALLOW_HOST: 'env.example' })).allowHosts, ['env.example']);
  const dir = mkdtempSync(join(tmpdir(), 'spp-allow-host-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'agent.ini'), '[DEFAULT]\nhost = spp4\n\n[spp]\nallow_host = ini.example, 127.0.0.21\n');
  t.deepEqual(resolveSettings(fromIniFile(join(dir, 'agent.ini'))).allowHosts, ['ini.example', '127.0.0.21']);
  t.throws(() => resolveSettings({ allowHost: 'a,,b' }), { message: /SPP_ALLOW_HOST\).*""/ });
  t.is(resolveSettings({}).allowHosts, undefined);
  t.throws(() => resolveSettings({ allowHost: 'evil/x' }), { message: /SPP_ALLOW_HOST\).*"evil\/x"/ });
  const agent = await runCli(['agent', '--allow-host', 'a b', '--etcd-endpoints', '127.0.0.1:1']);
  t.is(agent.code, 2);
  t.regex(agent.err, /--allow-host/);
  const sim = await runCli(['sim', '--vf', '1:0xfe', '--allow-host', 'x/y']);
  t.is(sim.code, 2);
  t.regex(sim.err, /--allow-host: expected a host name/);
  const viz = await runCli(['viz', '--etcd-endpoints', '127.0.0.1:1', '--allow-host', '']);
  t.is(viz.code, 2);
});
