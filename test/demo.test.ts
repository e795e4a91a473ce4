/**
 * The demo as a new user runs it: `npm run demo` prints where everything is
 * (the page, the ops endpoint), the commands it suggests work in the
 * checkout, a signal to npm stops everything, and a taken port is said on
 * the terminal.
 */

import { execFile, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import test from 'ava';
import { demoMirror } from '../src/demo/demo';
import { sppInvocation } from '../src/demo/invocation';
import { parseMappings } from '../src/protocol/mappings';
import { mirrorDecls } from '../src/setup/mirrors';
import { childOutput, ROOT, spawnNode } from './helpers/spawn';
import { until } from './helpers/system';

function sh(command: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('sh', ['-c', command], { cwd: ROOT, timeout: 60_000 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: out + err }),
    );
  });
}

test('npm run demo prints the page and ops URLs, both answer, the suggested status command works, and SIGTERM to npm stops node and etcd', async (t) => {
  // port 0: other demos may run on this machine; the fixed default ports are the next test's subject
  const npm = spawn('npm', ['run', 'demo', '--', '--ui', '127.0.0.1:0', '--ops', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = childOutput(npm);
  t.teardown(() => {
    if (npm.exitCode === null) npm.kill('SIGKILL');
  });
  await until(() => out.text().includes('Ctrl-C stops everything.'), 'the demo up', 120_000);
  const text = out.text();
  const endpoint = /^etcd\s+(127\.0\.0\.1:\d+)/m.exec(text)?.[1];
  const page = /^visualizer\s+(http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(text)?.[1];
  const ops = /^ops\s+(http:\/\/127\.0\.0\.1:\d+)\/readyz (\S+)\/livez \S+\/metrics \S+\/view$/m.exec(text)?.[1];
  t.truthy(endpoint, text);
  t.truthy(page, text);
  t.truthy(ops, text);

  const ready = await fetch(`${ops}/readyz`);
  t.is(ready.status, 200, 'the demo agent is ready');
  t.regex(await (await fetch(`${ops}/metrics`)).text(), /^spp_/m);
  t.is((await fetch(`${ops}/livez`)).status, 200);
  t.regex(await (await fetch(page!)).text(), /<html/i);
  t.regex(text, new RegExp(`curl -s ${ops}/readyz`), 'the readyz probe is among the suggestions');

  // the suggested command, exactly as printed, in the checkout the demo runs in
  const status = /^ {2}(.* status --etcd-endpoints \S+)$/m.exec(text)?.[1];
  t.truthy(status, text);
  t.regex(status!, /^npx spp /, 'a checkout has no spp on PATH: the hint says npx spp');
  const ran = await sh(status!);
  t.is(ran.code, 0, ran.out);
  t.regex(ran.out, /host demo: agent alive/);
  t.regex(ran.out, /mirrors: 0 of 1 claimed/, 'the demo host has one free mirror');

  // the suggested tap flow is written as the driver writes it, and the agent puts it up
  const tap = /^ {2}(.* tap create --etcd-endpoints \S+ .*)$/m.exec(text)?.[1];
  t.truthy(tap, text);
  const created = await sh(tap!);
  t.is(created.code, 0, created.out);
  t.regex(created.out, /tap flow tf1 is up on demo/);
  const after = await sh(status!);
  t.regex(after.out, /mirrors: 1 of 1 claimed/, after.out);

  // a signal to npm's PID reaches node itself (the script execs it), which stops etcd
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  npm.kill('SIGTERM');
  const code = await exited;
  t.regex(out.text(), /stopped\.\n/, 'the demo stopped what it started');
  t.not(code, null, 'npm exited');
  await t.throwsAsync(fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(1000) }), undefined, 'etcd was stopped');
  await t.throwsAsync(fetch(`${ops}/livez`, { signal: AbortSignal.timeout(1000) }), undefined, 'the agent was stopped');
});

test('a taken demo port is said on the terminal, with what to do, before anything starts', async (t) => {
  const busy: Server = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const address = busy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const out = spawnNode(t, ['demo', '--ui', `127.0.0.1:${port}`, '--ops', '127.0.0.1:0'], { cwd: ROOT });
  t.is(await out.exited, 1, out.text());
  t.regex(out.text(), new RegExp(`spp demo: 127\\.0\\.0\\.1:${port} \\(the visualizer, --ui\\) is in use \\(EADDRINUSE\\)`));
  t.regex(out.text(), /give another address \(--ui 127\.0\.0\.1:PORT, or --ui off\)/);
  t.notRegex(out.text(), /^etcd\s/m, 'nothing was started');
});

test('the spp command the demo suggests: spp when PATH has this one, npx spp in its checkout, node and the path elsewhere', (t) => {
  const script = '/home/u/networking-spp/bin/spp.js';
  t.is(sppInvocation({ script, cwd: '/tmp', sppOnPath: script }), 'spp');
  t.is(sppInvocation({ script, cwd: '/home/u/networking-spp' }), 'npx spp');
  t.is(sppInvocation({ script, cwd: '/home/u/networking-spp/docs', sppOnPath: '/usr/lib/node_modules/networking-spp/bin/spp.js' }), 'npx spp');
  t.is(sppInvocation({ script, cwd: '/home/u' }), `node ${script}`);
  t.is(sppInvocation({ script, cwd: '/home/u/networking-spp-old' }), `node ${script}`);
});

test('the npm scripts that run a long process exec it, so that a signal to npm reaches it', (t) => {
  const scripts = (require(join(ROOT, 'package.json')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['demo', 'bench', 'test', 'test:soak', 'test:chaos']) {
    const last = scripts[name]!.split('&&').pop()!.trim();
    t.regex(last, /^(\w+=\S+ )*exec (node|ava)\b/, `npm run ${name}: its last step ${JSON.stringify(last)} does not exec`);
  }
});

test('the demo mirror takes the client id after the vfs and a worker core no vf uses', (t) => {
  const seed = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02').configuration!;
  const mirror = demoMirror(seed);
  t.deepEqual(mirror, { secId: 3, coreMask: '0x10002' });
  t.deepEqual(mirrorDecls({ count: 1, coreMask: mirror.coreMask }, seed).errors, []);
  const one = parseMappings('00:04.0#phys1#1#0x3e').configuration!;
  t.deepEqual(demoMirror(one), { secId: 2, coreMask: '0x42' });
  t.deepEqual(mirrorDecls({ count: 1, coreMask: '0x42' }, one).errors, []);
});
