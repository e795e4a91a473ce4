/**
 * A whole compute node on loopback for integration tests: a real etcd, the
 * spp-ctl emulator over HTTP, the host set up, and the agent (in-process,
 * or as a child process for SIGKILL tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { Etcd3 } from 'etcd3';
import { type AgentUiHandle as AgentHandle, startAgentWithUi } from '../../src/cli/commands/agent-ui';
import { type AgentSettings, type RawSettings, resolveSettings } from '../../src/daemon/settings';
import type { OriginalPort } from '../../src/driver/original-writes';
import { LocalEtcd } from '../../src/localetcd/etcd-server';
import { createLogger } from '../../src/log';
import type { HostConfiguration } from '../../src/protocol/configuration';
import { keys } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { type BuildOptions, buildHost } from '../../src/setup/build';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';
import { type EmulatorOptions, type EmulatorServer, startEmulatorServer } from '../../src/sppctl/emulator';
import type { ServerOptions } from '../../src/sppctl/emulator/server';
import type { VfStatus } from '../../src/sppctl/wire';
import { BIN } from './spawn';
import { sleep, until } from './wait';

export const SEED_MAPPINGS = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';

export interface SystemOptions {
  readonly host?: string;
  readonly mappings?: string;
  readonly emulator?: Omit<ServerOptions, 'listen'>;
  /** Start the agent in-process right away (default true). */
  readonly agent?: boolean;
  readonly settings?: RawSettings;
  /** Set up the host in etcd (default true). */
  readonly setup?: boolean;
  /** etcd cluster size (default 1). */
  readonly etcdMembers?: number;
  /** Extra etcd flags, e.g. a larger --max-request-bytes. */
  readonly etcdArgs?: readonly string[];
  /** How the host is set up: configuration shape (default the c33920f array), declared layouts, mixed-type cores. */
  readonly build?: Pick<BuildOptions, 'format' | 'declared' | 'mixedCoreTypes' | 'mirrors'>;
}

export class System {
  agent: AgentHandle | undefined;
  child: ChildProcess | undefined;
  /** Every log record of in-process agents, parsed. */
  readonly logs: Array<Record<string, unknown>> = [];
  /** stdout+stderr of child agents. */
  childOutput = '';

  constructor(
    readonly etcd: LocalEtcd,
    /** The test's own client (root's once auth is on: test/helpers/auth-system.ts). */
    public client: Etcd3,
    public sim: EmulatorServer,
    readonly host: string,
    readonly configuration: HostConfiguration,
    private readonly baseSettings: RawSettings,
    private readonly emulatorOptions: EmulatorOptions = {},
  ) {}

  settings(extra: RawSettings = {}): AgentSettings {
    return resolveSettings({
      host: this.host,
      etcdEndpoints: this.etcd.endpoints.join(','),
      sppCtl: this.sim.url,
      logLevel: 'debug',
      resyncInterval: '30',
      ...this.baseSettings,
      ...extra,
    });
  }

  startAgent(extra: RawSettings = {}): AgentHandle {
    const settings = this.settings(extra);
    const stream = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) this.logs.push(JSON.parse(line) as Record<string, unknown>);
        cb();
      },
    });
    const logger = createLogger({ level: 'debug', format: 'json', stream });
    const sppctl = new SppCtlClient(httpTransport(this.sim.url, { timeoutMs: settings.sppCtlTimeoutMs }));
    this.agent = startAgentWithUi(settings, { logger, sppctl });
    return this.agent;
  }

  async stopAgent(): Promise<void> {
    await this.agent?.stop();
    this.agent = undefined;
  }

  /**
   * Starts `spp agent` as a child process (for SIGKILL). The host lock's TTL
   * is 2 s unless `extra` sets --lease-ttl: a restart after SIGKILL waits for
   * the dead agent's lock to expire.
   */
  spawnAgent(extra: string[] = [], env: NodeJS.ProcessEnv = {}): ChildProcess {
    const ttl = extra.includes('--lease-ttl') ? [] : ['--lease-ttl', '2'];
    const child = spawn(
      process.execPath,
      [
        BIN,
        'agent',
        '--host',
        this.host,
        '--etcd-endpoints',
        this.etcd.endpoints.join(','),
        '--spp-ctl',
        this.sim.url,
        '--log-level',
        'debug',
        ...ttl,
        ...extra,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    child.stdout?.on('data', (d: Buffer) => {
      this.childOutput += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.childOutput += d.toString();
    });
    this.child = child;
    return child;
  }

  /** The child agents' JSON log records from offset `from` of childOutput (a last line still arriving is left out). */
  childLogs(from = 0): Array<Record<string, unknown>> {
    return this.childOutput
      .slice(from)
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  async killChild(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    return new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.kill(signal);
    });
  }

  /** Mutating requests (not GET) the emulator saw, as `METHOD path body`. */
  mutations(): string[] {
    return this.sim.emulator
      .log()
      .filter((e) => e.method !== 'GET')
      .map((e) => `${e.method} ${e.path} ${e.body ?? ''}`.trim());
  }

  /** GET /v1/vfs/<id> from the emulator over HTTP. */
  async vfStatus(secId: number): Promise<VfStatus> {
    const res = await fetch(`${this.sim.url}/v1/vfs/${secId}`);
    if (res.status !== 200) throw new Error(`GET /v1/vfs/${secId}: ${res.status} ${await res.text()}`);
    return (await res.json()) as VfStatus;
  }

  async vfStatuses(): Promise<VfStatus[]> {
    return Promise.all(this.configuration.map((_, i) => this.vfStatus(i + 1)));
  }

  /** Stops the emulator and starts a fresh one (empty vfs) on the same port: an spp-ctl + spp_vf restart. */
  async restartSim(downMs = 500): Promise<void> {
    const port = this.sim.port;
    await this.sim.close();
    await sleep(downMs);
    this.sim = await startEmulatorServer({ listen: { host: '127.0.0.1', port }, mappings: this.configuration, ...this.emulatorOptions });
  }

  /** Every /spp key with its value. */
  async keys(): Promise<Record<string, string>> {
    const all = await this.client.getAll().prefix('/spp/').strings();
    delete all[keys.agent(this.host)];
    delete all[keys.agentLock(this.host)];
    return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
  }

  async close(): Promise<void> {
    await this.killChild();
    await this.stopAgent();
    await this.sim.close();
    this.client.close();
    await this.etcd.stop();
  }
}

export async function startSystem(t: ExecutionContext, opts: SystemOptions = {}): Promise<System> {
  const host = opts.host ?? 'spp4';
  const parsed = parseMappings(opts.mappings ?? SEED_MAPPINGS, { beyondRealLimits: true, declaredLayouts: opts.build?.declared !== undefined });
  if (!parsed.configuration) throw new Error(parsed.errors.join('; '));
  const etcd = await LocalEtcd.start(opts.etcdMembers ?? 1, opts.etcdArgs ? { extraArgs: opts.etcdArgs } : {});
  const client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
  const sim = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, mappings: parsed.configuration, ...opts.emulator });
  const system = new System(etcd, client, sim, host, parsed.configuration, opts.settings ?? {}, opts.emulator ?? {});
  t.teardown(() => system.close());
  if (opts.setup !== false) await buildHost(client, host, parsed.configuration, opts.build ?? {});
  if (opts.agent !== false) system.startAgent();
  return system;
}

// the system tests have always taken `until` from here
export { until } from './wait';

/** Waits until every NIC of the in-process agent is ready. */
export function nicsReady(system: System, timeoutMs = 10_000): Promise<true> {
  return until(
    () => {
      const nics = system.agent?.controller.view().nics ?? [];
      return nics.length === system.configuration.length && nics.every((n) => n.tags.includes('up'));
    },
    'every NIC ready',
    timeoutMs,
  );
}

/** Mutating requests as {method, path, body} with parsed bodies. */
export function requests(system: System): Array<{ method: string; path: string; body?: unknown }> {
  return system.sim.emulator
    .log()
    .filter((e) => e.method !== 'GET')
    .map((e) => ({ method: e.method, path: e.path, ...(e.body ? { body: JSON.parse(e.body) as unknown } : {}) }));
}

/** The MACs each vf classifies, as `vf/port/value`, sorted. */
export async function classified(s: System): Promise<string[]> {
  const vfs = await s.vfStatuses();
  return vfs.flatMap((vf) => vf.classifier_table.map((e) => `${vf['client-id']}/${e.port}/${e.value}`)).sort();
}

/** The classifier entry a port of the seed host (phys1 on vf 1, phys2 on vf 2) gets, in classified()'s form. */
export function entryOf(p: OriginalPort): string {
  const secId = p.phys === 'phys1' ? 1 : 2;
  const value = p.vlan === undefined ? p.mac.toUpperCase() : `${p.vlan}/${p.mac.toUpperCase()}`;
  return `${secId}/ring:${p.vhostId * 2}/${value}`;
}
