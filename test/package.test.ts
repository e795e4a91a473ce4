/**
 * The package as an operator gets it: `npm pack`, `npm install -g --prefix`
 * into an empty directory, then only the installed `spp` (sim, config build,
 * agent --ui, port bind) against a real etcd, and the visualizer's page and
 * assets fetched from the installed agent. Then an upgrade in place (the same
 * tarball installed over the running agent with `--offline`, the agent
 * restarted): no mutating spp-ctl request, the port stays up.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, normalize } from 'node:path';
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { LocalEtcd } from '../src/localetcd/etcd-server';
import { keys } from '../src/protocol/keys';

const ROOT = join(__dirname, '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; license: string };
const HOST = 'pkg-1';
const MAPPINGS = '00:04.0#phys1#2#0xfe';
const PORT_ID = 'a0000000-0000-4000-8000-000000000021';
const MAC = 'fa:16:3e:00:21:01';

/** The environment of a shell on a compute node: no npm run variables, no repository tools on PATH. */
function nodeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'NODE_PATH' && k !== 'NODE_OPTIONS') env[k] = v;
  // `npm test` puts node_modules/.bin (tsc among them) on PATH: an install that needed typescript would pass unnoticed
  env.PATH = (env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes('node_modules'))
    .join(delimiter);
  return env;
}

interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

function run(file: string, args: string[], cwd: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: nodeEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, out, err) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, out, err: err || (error && typeof error.code !== 'number' ? String(error) : '') });
    });
  });
}

interface Child {
  readonly proc: ChildProcess;
  output: string;
  /** Resolves with the first match of `re` in the output so far or to come. */
  waitFor(re: RegExp, what: string, timeoutMs?: number): Promise<RegExpExecArray>;
  stop(): Promise<number | null>;
}

function start(file: string, args: string[]): Child {
  const proc = spawn(file, args, { env: nodeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const child: Child = {
    proc,
    output: '',
    waitFor: (re, what, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = re.exec(child.output);
          if (m) resolve(m);
          return m !== null;
        };
        if (check()) return;
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${what}: not seen within ${timeoutMs} ms; output:\n${child.output}`));
        }, timeoutMs);
        const onData = (): void => {
          if (check()) cleanup();
        };
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`${what}: ${file} exited (${code}) first; output:\n${child.output}`));
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          proc.stdout!.off('data', onData);
          proc.stderr!.off('data', onData);
          proc.off('exit', onExit);
        };
        proc.stdout!.on('data', onData);
        proc.stderr!.on('data', onData);
        proc.once('exit', onExit);
      }),
    stop: () =>
      new Promise((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve(proc.exitCode);
        proc.once('exit', (code) => resolve(code));
        proc.kill('SIGTERM');
      }),
  };
  const append = (d: Buffer): void => {
    child.output += d.toString();
  };
  proc.stdout!.on('data', append);
  proc.stderr!.on('data', append);
  return child;
}

/** The JSON log records of the agent's output that have this message. */
function records(output: string, message: string): Array<Record<string, unknown>> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r.message === message);
}

/** `npm pack --json` prints the lifecycle scripts' output first; the JSON array is the rest. */
function packJson(out: string): { filename: string; size: number; unpackedSize: number; files: Array<{ path: string; size: number }> } {
  const at = out.search(/^\[/m);
  if (at < 0) throw new Error(`npm pack printed no JSON:\n${out}`);
  return (JSON.parse(out.slice(at)) as Array<ReturnType<typeof packJson>>)[0]!;
}

/** Targets of a markdown document's relative links and images (no URL, no anchor-only link). */
function localLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s#]+)(#[^)]*)?\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

/** Relative requires of a compiled file, resolved to package paths (tsc emits `require("./x")`). */
function relativeRequires(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/require\("(\.{1,2}\/[^"]+)"\)/g))
    out.push(
      normalize(join(dirname(file), m[1]!))
        .split('\\')
        .join('/'),
    );
  return out;
}

const FORBIDDEN: Array<[RegExp, string]> = [
  [/(^|\/)test\//, 'a test directory'],
  [/\.test\.js(\.map)?$/, 'a compiled test or its source map'],
  [/^dist\/(test|scripts)\//, 'compiled tests, helpers or bench'],
  [/^scripts\//, 'bench and build scripts'],
  [/\.ts$/, 'TypeScript sources'],
  [/(^|\/)node_modules\//, 'dependencies'],
  [/tsconfig|\.tsbuildinfo|^\.ci\/|package-lock\.json/, 'build and CI files'],
];

test('npm pack: the tarball installs into an empty prefix and the installed spp runs a host with the visualizer; an upgrade in place sends no spp-ctl command', async (t) => {
  const work = await mkdtemp(join(tmpdir(), 'spp-package-'));
  const children: Child[] = [];
  let etcd: LocalEtcd | undefined;
  let client: Etcd3 | undefined;
  t.teardown(async () => {
    for (const c of children) await c.stop();
    client?.close();
    await etcd?.stop();
    await rm(work, { recursive: true, force: true });
  });

  // 1. pack (the prepack script compiles; with dist/ up to date it writes nothing)
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  t.is(packed.code, 0, packed.err);
  const pack = packJson(packed.out);
  const paths = pack.files.map((f) => f.path);
  t.log(`tarball ${pack.filename}: ${pack.size} bytes, ${pack.unpackedSize} bytes unpacked, ${paths.length} files`);
  for (const p of paths) for (const [re, what] of FORBIDDEN) t.false(re.test(p), `${p} is in the tarball: ${what}`);
  for (const p of ['package.json', 'LICENSE', 'README.md', 'bin/spp.js', 'dist/src/cli/main.js', 'dist/src/replay/worker.js', 'docs/operations.md'])
    t.true(paths.includes(p), `${p} is missing`);
  for (const asset of ['index.html', 'app.js', 'cluster.js', 'style.css'])
    t.true(paths.includes(`src/viz/static/${asset}`), `visualizer asset ${asset} is missing`);
  // a picture or page a packaged document links to is in the package too (docs/visualizer.md's screenshots)
  for (const doc of paths.filter((p) => p.endsWith('.md'))) {
    for (const target of localLinks(await readFile(join(ROOT, doc), 'utf8')))
      t.true(paths.includes(normalize(join(dirname(doc), target))), `${doc} links to ${target}, which is not in the tarball`);
  }
  t.true(paths.includes('docs/images/visualizer-host.png'), 'docs/images is in the tarball');
  for (const p of paths.filter((q) => q.endsWith('.js') && q.startsWith('dist/'))) {
    const source = p.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    t.true(existsSync(join(ROOT, source)), `${p} has no source ${source}: a stale build output (pack from a fresh clone)`);
    for (const dep of relativeRequires(p, await readFile(join(ROOT, p), 'utf8'))) {
      t.true(paths.includes(dep) || paths.includes(`${dep}.js`) || paths.includes(`${dep}/index.js`), `${p} requires ${dep}, which is not in the tarball`);
    }
  }
  const scripts = Object.keys((PKG as { scripts?: Record<string, string> }).scripts ?? {});
  t.deepEqual(
    scripts.filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s)),
    [],
    'an install from the tarball runs no script (a build would need typescript)',
  );
  t.is(PKG.license, 'Apache-2.0');
  t.regex(await readFile(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/);
  const tarball = join(work, pack.filename);

  // 2. install into an empty prefix, dependencies from the npm cache where it has them
  const prefix = join(work, 'prefix');
  const installStarted = Date.now();
  const installed = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], work);
  t.is(installed.code, 0, installed.err);
  t.log(`npm install -g --prefix (prefer offline): ${Date.now() - installStarted} ms`);
  const home = join(prefix, 'lib', 'node_modules', PKG.name);
  for (const dev of ['typescript', 'ava', 'playwright-core', 'fast-check'])
    t.false(existsSync(join(home, 'node_modules', dev)), `dev dependency ${dev} was installed`);
  const spp = join(prefix, 'bin', 'spp');

  // 3. the installed spp: --help, --version
  const help = await run(spp, ['--help'], work);
  t.is(help.code, 0, help.err);
  for (const cmd of ['agent', 'sim', 'port bind', 'systemd-unit']) t.true(help.out.includes(`  ${cmd} `), `--help lists ${cmd}`);
  const version = await run(spp, ['--version'], work);
  t.is(version.code, 0, version.err);
  t.is(version.out, `${PKG.version}\n`);

  // 4. a host: real etcd, the installed emulator, set-up, agent with --ui
  etcd = await LocalEtcd.start();
  client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
  const endpoints = etcd.endpoints.join(',');
  const sim = start(spp, ['sim', '--listen', '127.0.0.1:0', '--mappings', MAPPINGS]);
  children.push(sim);
  const simUrl = (await sim.waitFor(/listening on (http:\/\/[0-9.:]+)/, 'spp sim'))[1]!;
  const built = await run(spp, ['config', 'build', '--host', HOST, '--mappings', MAPPINGS, '--etcd-endpoints', endpoints], work);
  t.is(built.code, 0, built.err);
  const agentArgs = ['agent', '--host', HOST, '--etcd-endpoints', endpoints, '--spp-ctl', simUrl, '--ui', '127.0.0.1:0', '--lease-ttl', '2'];
  let agent = start(spp, agentArgs);
  children.push(agent);
  const uiUrl = (await agent.waitFor(/"message":"visualizer listening \(read-only\)".*?"url":"([^"]+)"/, 'visualizer listening'))[1]!;
  t.is(records(agent.output, 'agent starting')[0]?.version, PKG.version, 'the log names the package version');

  // 5. bind with the installed driver client; it waits for port_status = up
  const bound = await run(spp, ['port', 'bind', '--host', HOST, '--port-id', PORT_ID, '--mac', MAC, '--phys', 'phys1', '--etcd-endpoints', endpoints], work);
  t.is(bound.code, 0, `${bound.err}\n${agent.output}`);
  t.like(JSON.parse(bound.out), { vif_type: 'vhostuser' });
  const liveness = JSON.parse((await client.get(keys.agent(HOST)).string())!) as { version: string };
  t.is(liveness.version, PKG.version, 'the liveness key names the package version');

  // 6. the visualizer page and every asset it references, from the installed agent
  const page = await fetch(uiUrl);
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  const html = await page.text();
  const assets = [...html.matchAll(/(?:src|href)="([^"#:]+)"/g)].map((m) => m[1]!);
  t.deepEqual(assets.sort(), ['app.js', 'cluster.js', 'style.css']);
  for (const asset of assets) {
    const res = await fetch(new URL(asset, uiUrl));
    t.is(res.status, 200, asset);
    t.is(await res.text(), await readFile(join(ROOT, 'src', 'viz', 'static', asset), 'utf8'), `${asset} is the shipped file`);
  }
  const view = JSON.stringify(await (await fetch(new URL('api/view', uiUrl))).json());
  t.true(view.includes(PORT_ID), "the page's data shows the bound port");

  // 7. upgrade in place: install over the running agent (offline: the cache has everything now), restart it
  t.is((await fetch(`${simUrl}/_sim/log`, { method: 'DELETE' })).status, 204);
  const reinstalled = await run('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], work);
  t.is(reinstalled.code, 0, `npm install --offline: ${reinstalled.err}`);
  t.is(await agent.stop(), 0, agent.output);
  agent = start(spp, agentArgs);
  children.push(agent);
  await agent.waitFor(/"message":"agent state".*"state":"running"/, 'the restarted agent running');
  // the port's plug run ends: port_status is put again only where a driver may still wait (docs/protocol.md)
  await agent.waitFor(new RegExp(`^(?=.*"message":"port is up")(?=.*"port":"${PORT_ID}").*$`, 'm'), 'the port plugged again after the upgrade');
  t.is(await client.get(keys.portStatus(HOST, PORT_ID)).string(), 'up');
  const log = (await (await fetch(`${simUrl}/_sim/log`)).json()) as Array<{ method: string; path: string }>;
  t.deepEqual(
    log.filter((e) => e.method !== 'GET').map((e) => `${e.method} ${e.path}`),
    [],
    'the restart after the upgrade sends no mutating spp-ctl request',
  );
});
