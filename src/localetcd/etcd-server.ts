/**
 * Runs a real etcd server (Debian's `etcd-server`) on loopback with its own
 * temp data dir: for tests, the demo and benchmarks. Never an in-memory fake.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
}

export interface EtcdServerOptions {
  /** etcd binary; default `etcd` on PATH (Debian's etcd-server installs /usr/bin/etcd). */
  readonly binary?: string;
  /** Where data dirs go; default the OS temp dir. */
  readonly baseDir?: string;
  /** Extra etcd flags for every member. */
  readonly extraArgs?: readonly string[];
  /** Captures etcd's own log lines (it is quiet otherwise). */
  readonly onLog?: (member: string, line: string) => void;
  /** Fills a member's data dir before it first starts (e.g. `etcdctl snapshot restore`); etcd then serves that data. */
  readonly prepare?: (member: EtcdMember, cluster: string) => Promise<void>;
}

/** One etcd process per member; a single-member cluster unless `size` says more. */
export class LocalEtcd {
  private readonly procs = new Map<string, ChildProcess>();
  private constructor(
    readonly members: readonly EtcdMember[],
    private readonly root: string,
    private readonly options: EtcdServerOptions,
  ) {}

  /**
   * Starts a cluster of `size` members and waits until it answers. A free
   * port can be taken by another process between our probe and etcd's bind
   * (parallel test workers): a member that exits at start-up is retried on
   * new ports.
   */
  static async start(size = 1, options: EtcdServerOptions = {}): Promise<LocalEtcd> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await LocalEtcd.startOnce(size, options);
      } catch (err) {
        if (attempt >= 3 || !/exited with code/.test((err as Error).message)) throw err;
      }
    }
  }

  private static async startOnce(size: number, options: EtcdServerOptions): Promise<LocalEtcd> {
    const root = mkdtempSync(join(options.baseDir ?? tmpdir(), 'spp-etcd-'));
    const taken = new Set<number>();
    const port = async (): Promise<number> => {
      for (;;) {
        const p = await freePort();
        if (!taken.has(p)) {
          taken.add(p);
          return p;
        }
      }
    };
    const members: EtcdMember[] = [];
    for (let i = 0; i < size; i++) {
      const name = `m${i}`;
      members.push({
        name,
        clientUrl: `http://127.0.0.1:${await port()}`,
        peerUrl: `http://127.0.0.1:${await port()}`,
        dataDir: join(root, name),
      });
    }
    const etcd = new LocalEtcd(members, root, options);
    try {
      const cluster = members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
      for (const m of members) await options.prepare?.(m, cluster);
      for (const m of members) etcd.spawnMember(m, 'new');
      await etcd.waitHealthy();
    } catch (err) {
      await etcd.stop();
      throw err;
    }
    return etcd;
  }

  /** Client endpoints as `127.0.0.1:port`, the form `--etcd-endpoints` takes. */
  get endpoints(): string[] {
    return this.members.map((m) => m.clientUrl.replace(/^http:\/\//, ''));
  }

  get endpoint(): string {
    return this.endpoints[0]!;
  }

  private spawnMember(m: EtcdMember, state: 'new' | 'existing'): void {
    const cluster = this.members.map((x) => `${x.name}=${x.peerUrl}`).join(',');
    const args = [
      '--name',
      m.name,
      '--data-dir',
      m.dataDir,
      '--listen-client-urls',
      m.clientUrl,
      '--advertise-client-urls',
      m.clientUrl,
      '--listen-peer-urls',
      m.peerUrl,
      '--initial-advertise-peer-urls',
      m.peerUrl,
      '--initial-cluster',
      cluster,
      '--initial-cluster-state',
      state,
      '--initial-cluster-token',
      `spp-${process.pid}`,
      '--log-level',
      'error',
      '--logger',
      'zap',
      ...(this.options.extraArgs ?? []),
    ];
    const proc = spawn(this.options.binary ?? 'etcd', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const onLog = this.options.onLog;
    const forward = (chunk: Buffer): void => {
      if (onLog) for (const line of chunk.toString().split('\n')) if (line) onLog(m.name, line);
    };
    proc.stdout?.on('data', forward);
    proc.stderr?.on('data', forward);
    proc.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      onLog?.(m.name, code === 'ENOENT' ? 'etcd binary not found: install Debian package etcd-server (scripts/ensure-deps.sh)' : String(err));
    });
    this.procs.set(m.name, proc);
  }

  /** Waits until every running member answers /health. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const m of this.members) {
      if (!this.procs.has(m.name)) continue;
      for (;;) {
        const proc = this.procs.get(m.name);
        if (proc && proc.exitCode !== null) throw new Error(`etcd member ${m.name} exited with code ${proc.exitCode}`);
        try {
          const res = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
          const body = (await res.json()) as { health?: string };
          if (body.health === 'true') break;
        } catch {
          // not up yet
        }
        if (Date.now() > deadline) throw new Error(`etcd member ${m.name} not healthy after ${timeoutMs} ms (binary: ${this.options.binary ?? 'etcd'})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Stops one member (SIGTERM, then SIGKILL), keeping its data. */
  async stopMember(name: string): Promise<void> {
    const proc = this.procs.get(name);
    this.procs.delete(name);
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  /** Starts a stopped member again on the same ports and data. */
  async startMember(name: string): Promise<void> {
    const m = this.members.find((x) => x.name === name);
    if (!m) throw new Error(`no etcd member ${name}`);
    if (this.procs.has(name)) return;
    this.spawnMember(m, 'existing');
    await this.waitHealthy();
  }

  /** Stops every member and deletes the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => this.stopMember(m.name)));
    rmSync(this.root, { recursive: true, force: true });
  }
}
