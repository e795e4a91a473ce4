/**
 * A compute node for measurements: one real etcd shared by every scenario
 * (each scenario is its own host name), an spp-ctl emulator per host, and the
 * agent as a child process (`node bin/spp.js agent`) so that its CPU and
 * memory are its own and it can be SIGKILLed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3, type IKeyValue, type Watcher } from 'etcd3';
import { LocalEtcd } from '../../src/localetcd/etcd-server';
import type { HostConfiguration } from '../../src/protocol/configuration';
import { ROOT } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { type BuildOptions, buildHost } from '../../src/setup/build';
import { type EmulatorServer, startEmulatorServer } from '../../src/sppctl/emulator';
// the runner is spawned, never loaded here
import type { HostEntry, WatchMode } from './multi-agent';

/** USER_HZ: /proc times are in these ticks per second (100 on every Linux build that matters). */
const CLOCK_TICKS = 100;
export const BIN = join(__dirname, '..', '..', '..', 'bin', 'spp.js');

/** VmRSS of process `pid` in KiB. */
export function procRssKb(pid: number): number {
  const m = /^VmRSS:\s+([0-9]+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** CPU time (user + system) process `pid` has used, in ms (clock-tick resolution, 10 ms on Linux). */
export function procCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the parenthesised command name, which may itself contain spaces
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Pids of this process's children named `comm` (e.g. the etcd that LocalEtcd started), from /proc. */
export function childPids(comm: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (name === comm && ppid === process.pid) out.push(Number(entry));
  }
  return out;
}

/** DPDK_PORT_MAPPINGS for `nics` NICs of `vhosts` vhosts each, every NIC on cores of its own. */
export function benchMappings(nics: number, vhosts: number): string {
  const perNic = 2 * vhosts + 3; // master + 2 forwarders per vhost + classifier + merger
  return Array.from({ length: nics }, (_, i) => {
    const first = 1 + i * perNic;
    const mask = ((1n << BigInt(perNic)) - 1n) << BigInt(first);
    const pci = `00:${(4 + i).toString(16).padStart(2, '0')}.0`;
    return `${pci}#phys${i + 1}#${vhosts}#0x${mask.toString(16)}`;
  }).join(',');
}

export interface KeyEvent {
  readonly type: 'put' | 'delete';
  readonly key: string;
  readonly value: string;
  /** performance.now() when the watcher delivered it. */
  readonly at: number;
}

/**
 * Every event under the protocol root as the bench process's watcher sees
 * it, with waiters: "seen by a watcher" is the moment neutron would learn it.
 */
export class KeyWatch {
  readonly events: KeyEvent[] = [];
  private waiters: Array<{ test: (e: KeyEvent) => boolean; resolve: (e: KeyEvent) => void }> = [];

  private constructor(private readonly watcher: Watcher) {
    const push = (type: 'put' | 'delete', kv: IKeyValue): void => {
      const e: KeyEvent = { type, key: kv.key.toString(), value: kv.value.toString(), at: performance.now() };
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => {
        if (!w.test(e)) return true;
        w.resolve(e);
        return false;
      });
    };
    watcher.on('put', (kv) => push('put', kv));
    watcher.on('delete', (kv) => push('delete', kv));
  }

  static async start(client: Etcd3, prefix = ROOT): Promise<KeyWatch> {
    return new KeyWatch(await client.watch().prefix(prefix).create());
  }

  /** The first event from index `from` on (default: only future ones) that passes `test`. */
  next(test: (e: KeyEvent) => boolean, what: string, timeoutMs = 30_000, from = this.events.length): Promise<KeyEvent> {
    const seen = this.events.slice(from).find(test);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (e: KeyEvent): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  /** Forgets past events (long runs). */
  clear(): void {
    this.events.length = 0;
  }

  async close(): Promise<void> {
    await this.watcher.cancel();
  }
}

/** One etcd for the whole run. */
export class BenchEnv {
  private hosts = 0;
  private constructor(
    readonly etcd: LocalEtcd,
    readonly client: Etcd3,
    readonly watch: KeyWatch,
  ) {}

  static async start(): Promise<BenchEnv> {
    const etcd = await LocalEtcd.start();
    const client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
    return new BenchEnv(etcd, client, await KeyWatch.start(client));
  }

  /** A fresh host name, so scenarios never see each other's keys. */
  hostName(label: string): string {
    return `bench${++this.hosts}-${label}`;
  }

  async close(): Promise<void> {
    await this.watch.close();
    this.client.close();
    await this.etcd.stop();
  }
}

export interface HostOptions {
  readonly nics: number;
  readonly vhosts: number;
  /** Needed beyond 5 vhosts per NIC (status of 4096+ bytes). */
  readonly lenient?: boolean;
  readonly pollIntervalMs?: number;
  readonly label: string;
  /** How the host is set up (default: the c33920f array). */
  readonly build?: HostBuild;
}

export type HostBuild = Pick<BuildOptions, 'format' | 'declared'>;

export interface LogLine {
  readonly at: number;
  readonly record: Record<string, unknown>;
}

export class BenchHost {
  child: ChildProcess | undefined;
  /** The agent's log records (stderr JSON lines) with their arrival time. */
  logs: LogLine[] = [];
  private logWaiters: Array<{ test: (r: Record<string, unknown>) => boolean; resolve: (l: LogLine) => void }> = [];

  private constructor(
    readonly env: BenchEnv,
    readonly host: string,
    readonly configuration: HostConfiguration,
    readonly sim: EmulatorServer,
  ) {}

  static async start(env: BenchEnv, opts: HostOptions): Promise<BenchHost> {
    const parsed = parseMappings(benchMappings(opts.nics, opts.vhosts), { beyondRealLimits: true, declaredLayouts: opts.build?.declared !== undefined });
    if (!parsed.configuration) throw new Error(`bench host ${opts.nics} NICs x ${opts.vhosts} vhosts: ${parsed.errors.join('; ')}`);
    const sim = await startEmulatorServer({
      listen: { host: '127.0.0.1', port: 0 },
      mappings: parsed.configuration,
      lenient: opts.lenient ?? false,
      pollIntervalMs: opts.pollIntervalMs ?? 0,
    });
    const host = env.hostName(opts.label);
    await buildHost(env.client, host, parsed.configuration, { beyondRealLimits: true, ...opts.build });
    return new BenchHost(env, host, parsed.configuration, sim);
  }

  /** Every vhost of the host as (phys, vhost id), in layout order. */
  vhostSlots(): Array<{ phys: string; vhostId: number; secId: number }> {
    let next = 0;
    return this.configuration.flatMap((nic, i) => Array.from({ length: nic.num_vhost }, () => ({ phys: nic.physical_network, vhostId: next++, secId: i + 1 })));
  }

  setPollInterval(ms: number): void {
    // the emulator copies its options at start: a later change goes through its own setter
    this.sim.emulator.setPollInterval(ms);
  }

  /** Mutating spp-ctl requests in the emulator's log since the last clear. */
  mutations(): number {
    return this.sim.emulator.log().filter((e) => e.method !== 'GET').length;
  }

  requests(): number {
    return this.sim.emulator.log().length;
  }

  /**
   * Starts `spp agent` for this host and resolves once every NIC is ready.
   * `cpuProfileDir`: run it under `node --cpu-prof` (the profile is written at a clean exit); `args`: more agent flags.
   */
  async spawnAgent(opts: { cpuProfileDir?: string; timeoutMs?: number; args?: readonly string[] } = {}): Promise<{ spawnedAt: number; readyAt: number }> {
    if (this.child) throw new Error('an agent is already running for this host');
    this.logs = [];
    const nodeArgs = opts.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfileDir] : [];
    const args = [
      ...nodeArgs,
      BIN,
      'agent',
      '--host',
      this.host,
      '--etcd-endpoints',
      this.env.etcd.endpoints.join(','),
      '--spp-ctl',
      this.sim.url,
      '--log-level',
      'info',
      ...(opts.args ?? []),
    ];
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let rest = '';
    child.stderr!.on('data', (d: Buffer) => {
      const at = performance.now();
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.trim()) continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          record = { message: line };
        }
        const l = { at, record };
        this.logs.push(l);
        this.logWaiters = this.logWaiters.filter((w) => {
          if (!w.test(record)) return true;
          w.resolve(l);
          return false;
        });
      }
    });
    const ready = this.configuration.map((_, i) => this.waitLog((r) => r.message === 'nic state' && r.secId === i + 1 && r.state === 'ready', opts.timeoutMs));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) => reject(new Error(`agent exited (${code ?? signal}) before its NICs were ready: ${this.tail()}`))),
    );
    const lines = await Promise.race([Promise.all(ready), exited]);
    exited.catch(() => undefined);
    return { spawnedAt, readyAt: Math.max(...lines.map((l) => l.at)) };
  }

  /** The first agent log record (past or future, this process) that passes `test`. */
  waitLog(test: (r: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const seen = this.logs.find((l) => test(l.record));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for an agent log line; last lines: ${this.tail()}`)), timeoutMs);
      this.logWaiters.push({
        test,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }

  private tail(): string {
    return this.logs
      .slice(-5)
      .map((l) => JSON.stringify(l.record))
      .join('\n');
  }

  /** VmRSS of the agent child in KiB. */
  rssKb(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('no agent child running');
    return procRssKb(pid);
  }

  /** CPU time (user + system) the agent child has used, in ms (clock-tick resolution, 10 ms on Linux). */
  cpuMs(): number {
    const pid = this.child?.pid;
    if (pid === undefined) throw new Error('no agent child running');
    return procCpuMs(pid);
  }

  async killAgent(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async close(): Promise<void> {
    await this.killAgent();
    await this.sim.close();
  }
}

/** The scale runner, compiled next to this file. */
export const MULTI_AGENT = join(__dirname, 'multi-agent.js');

/**
 * `scripts/bench/multi-agent.ts` as a child process serving several bench
 * hosts at once: one process, one etcd client, one agent per host.
 */
export class MultiAgentChild {
  private stdout = '';
  private stderr = '';

  private constructor(
    readonly child: ChildProcess,
    /** Spawn -> the READY line (every NIC of every host ready), ms. */
    readonly readyMs: number,
  ) {}

  static async spawn(env: BenchEnv, hosts: readonly BenchHost[], opts: { watch: WatchMode; timeoutMs?: number }): Promise<MultiAgentChild> {
    const entries: HostEntry[] = hosts.map((h) => ({ host: h.host, sppCtl: h.sim.url }));
    const file = join(mkdtempSync(join(tmpdir(), 'spp-bench-multi-')), 'hosts.json');
    writeFileSync(file, JSON.stringify(entries));
    const timeoutSec = String(Math.ceil((opts.timeoutMs ?? 120_000) / 1000));
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        MULTI_AGENT,
        '--etcd-endpoints',
        env.etcd.endpoints.join(','),
        '--hosts-file',
        file,
        '--watch',
        opts.watch,
        '--ready-timeout',
        timeoutSec,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const readyAt = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/^READY /m.test(out)) resolve(performance.now());
      });
      child.once('exit', (code, signal) => reject(new Error(`multi-agent exited (${code ?? signal}) before it was ready: ${err.slice(-2000)}`)));
    });
    rmSync(file, { force: true });
    const m = new MultiAgentChild(child, readyAt - t0);
    m.stdout = out;
    m.stderr = err;
    child.stdout!.on('data', (d: Buffer) => {
      m.stdout += d.toString();
    });
    child.stderr!.on('data', (d: Buffer) => {
      m.stderr += d.toString();
    });
    return m;
  }

  rssKb(): number {
    return procRssKb(this.child.pid!);
  }

  /**
   * V8 shrinks its heap a step per full collection and gives the pages back
   * to the OS a moment later, and an idle runner never collects on its own
   * (its RSS stays at the start-up peak, about twice the settled figure for
   * 63 hosts). So: collect, wait `intervalMs`, read the RSS, and again until
   * the RSS moves by less than 2 % (at most `tries` collections).
   */
  async settledMemory(intervalMs = 1000, tries = 10): Promise<{ rssKb: number; heapUsedKb: number; collections: number }> {
    let previous: number | undefined;
    for (let i = 1; ; i++) {
      const { heapUsedKb } = await this.collectedMemory();
      await new Promise((r) => setTimeout(r, intervalMs));
      const rssKb = this.rssKb();
      if (i >= tries || (previous !== undefined && Math.abs(rssKb - previous) < 0.02 * previous)) return { rssKb, heapUsedKb, collections: i };
      previous = rssKb;
    }
  }

  /** Asks the runner for a full garbage collection; then its VmRSS and its V8 heap in use, KiB. */
  async collectedMemory(timeoutMs = 10_000): Promise<{ rssKb: number; heapUsedKb: number }> {
    const from = this.stdout.length;
    const deadline = performance.now() + timeoutMs;
    this.child.kill('SIGUSR2');
    for (;;) {
      const line = /^MEMORY (.*)$/m.exec(this.stdout.slice(from));
      if (line) {
        const m = JSON.parse(line[1]!) as { gc: boolean; heapUsedKb: number };
        if (!m.gc) throw new Error('multi-agent runs without --expose-gc: its memory would include uncollected garbage');
        return { rssKb: this.rssKb(), heapUsedKb: m.heapUsedKb };
      }
      if (performance.now() > deadline || this.child.exitCode !== null) throw new Error(`no MEMORY line from multi-agent: ${this.stderr.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  cpuMs(): number {
    return procCpuMs(this.child.pid!);
  }

  /** Log records at warn and above the agents wrote (stderr), for the report. */
  warnings(): string[] {
    return this.stderr.split('\n').filter((l) => l.trim() !== '');
  }

  /** SIGTERM; resolves with the exit code (0 after a clean stop of every agent). */
  async stop(timeoutMs = 30_000): Promise<number | null> {
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    return new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      child.kill('SIGTERM');
    });
  }
}
