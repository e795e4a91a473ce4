/**
 * The whole system on one machine: a local etcd (temp dir, loopback), the
 * spp-ctl emulator, host set-up, the agent, and two ports bound the way
 * neutron binds them. For trying things out and for showing them.
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { AgentDeps, AgentHandle } from '../daemon/daemon';
import { type AgentSettings, resolveSettings } from '../daemon/settings';
import { type BindResult, bindPort } from '../driver';
import { listenProblem, parseListen } from '../listen';
import { LocalEtcd } from '../localetcd/etcd-server';
import { createLogger } from '../log';
import type { HostConfiguration } from '../protocol/configuration';
import { keys } from '../protocol/keys';
import { coreMaskBits, parseMappings } from '../protocol/mappings';
import { buildHost } from '../setup/build';
import { readHostView } from '../setup/view';
import { renderStatus } from '../setup/view-text';
import { httpTransport, SppCtlClient } from '../sppctl/client';
import { type EmulatorServer, startEmulatorServer } from '../sppctl/emulator';
import type { VizServer } from '../viz/server';

export interface DemoOptions {
  readonly host: string;
  readonly mappings: string;
  /** Visualizer address, or undefined for none. */
  readonly ui?: string;
  /** Ops endpoint address (/metrics, /livez, /readyz, /view), or undefined for none. */
  readonly ops?: string;
  /** How to type `spp` in the user's terminal, for the commands suggested (default `spp`). */
  readonly spp?: string;
  readonly out: (text: string) => void;
  /** Starts the agent with its page: the CLI's composition (src/cli/commands/agent-ui.ts), which this layer cannot import. */
  readonly startAgent: (settings: AgentSettings, deps: AgentDeps) => DemoAgent;
}

/** What the demo needs of the agent it runs. */
export interface DemoAgent extends AgentHandle {
  /** The visualizer, once listening; undefined when off or when it could not listen. */
  readonly viz?: Promise<VizServer | undefined>;
}

export interface RunningDemo {
  readonly etcdEndpoint: string;
  readonly sppCtlUrl: string;
  readonly agentLog: string;
  /** The visualizer's and the ops endpoint's URLs, when serving. */
  readonly uiUrl?: string;
  readonly opsUrl?: string;
  readonly bindings: readonly BindResult[];
  stop(): Promise<void>;
}

export const DEMO_PORTS = [
  { portId: '11111111-1111-4111-8111-111111111111', mac: 'fa:16:3e:00:00:01', physicalNetwork: 'phys1' },
  { portId: '22222222-2222-4222-8222-222222222222', mac: 'fa:16:3e:00:00:02', physicalNetwork: 'phys2', vlanId: 100 },
] as const;

/**
 * The demo's spp_mirror (TaaS): client id after the vfs', its master on the
 * vfs' lowest master core and its one worker on the core above every vf core,
 * so that it overlaps no vf.
 */
export function demoMirror(configuration: HostConfiguration): { secId: number; coreMask: string } {
  const bits = configuration.map((n) => coreMaskBits(n.core_mask)).filter((b) => b !== undefined);
  const master = Math.min(...bits.map((b) => b.master));
  const worker = Math.max(...bits.flatMap((b) => [b.master, ...b.occupied])) + 1;
  return { secId: configuration.length + 1, coreMask: `0x${((1n << BigInt(master)) | (1n << BigInt(worker))).toString(16)}` };
}

/** The fixed addresses the demo would listen on that cannot be listened on, each with why and what to do; empty when all are free. */
export async function busyDemoAddresses(opts: Pick<DemoOptions, 'ui' | 'ops'>): Promise<string[]> {
  const wanted = [
    { option: '--ui', what: 'the visualizer', value: opts.ui },
    { option: '--ops', what: 'the ops endpoint', value: opts.ops },
  ];
  const problems: string[] = [];
  for (const w of wanted) {
    if (w.value === undefined) continue;
    const listen = parseListen(w.value, w.option);
    if (listen.port === 0) continue;
    const problem = await listenProblem(listen);
    if (problem) {
      problems.push(
        `${w.value} (${w.what}, ${w.option}) is ${problem}: is another demo or agent running? Stop it, or give another address (${w.option} 127.0.0.1:PORT, or ${w.option} off)`,
      );
    }
  }
  return problems;
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const say = (line: string): void => opts.out(`${line}\n`);
  const spp = opts.spp ?? 'spp';
  const parsed = parseMappings(opts.mappings);
  if (!parsed.configuration) throw new Error(`invalid --mappings:\n  ${parsed.errors.join('\n  ')}`);
  // before anything starts: a taken port must be said here, not only in the agent's log file
  const busy = await busyDemoAddresses(opts);
  if (busy.length > 0) throw new Error(busy.join('\n'));
  const dir = mkdtempSync(join(tmpdir(), 'spp-demo-'));
  const stops: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    const etcd = await LocalEtcd.start(1, { baseDir: dir });
    stops.push(() => etcd.stop());
    say(`etcd         ${etcd.endpoint} (data in ${dir})`);
    const client = new Etcd3({ hosts: `http://${etcd.endpoint}` });
    stops.push(async () => client.close());

    const mirror = demoMirror(parsed.configuration);
    const sim: EmulatorServer = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, mappings: parsed.configuration, mirrors: [mirror] });
    stops.push(() => sim.close());
    say(`spp-ctl      ${sim.url} (emulator, vfs ${sim.emulator.secIds().join(', ')}, spp_mirror ${mirror.secId} on cores ${mirror.coreMask})`);

    // the final format: the only one that holds a mirror list
    await buildHost(client, opts.host, parsed.configuration, { format: 'final', mirrors: { count: 1, coreMask: mirror.coreMask } });
    say(`host         ${opts.host}: ${opts.mappings}, mirrors 1#${mirror.coreMask}`);

    const agentLog = join(dir, 'agent.log');
    const settings = resolveSettings({
      host: opts.host,
      etcdEndpoints: etcd.endpoint,
      sppCtl: sim.url,
      logFormat: 'pretty',
      ...(opts.ui ? { ui: opts.ui } : {}),
      ...(opts.ops ? { ops: opts.ops } : {}),
    });
    const logStream = createWriteStream(agentLog, { flags: 'a' });
    const logger = createLogger({ level: 'info', format: 'pretty', stream: logStream });
    const agent = opts.startAgent(settings, { logger, sppctl: new SppCtlClient(httpTransport(sim.url)) });
    // the log file stays open until the process exits: late records of stopping machines must not fail
    stops.push(() => agent.stop());
    say(`agent        running in this process; log: ${agentLog}`);
    // a server that still could not listen (taken since the check) is said here too; the demo runs on without it
    const viz = await agent.viz;
    if (viz) say(`visualizer   ${viz.url}`);
    else if (opts.ui) say(`visualizer   NOT SERVING: could not listen on ${opts.ui} (the reason is in ${agentLog}); try --ui 127.0.0.1:PORT`);
    const ops = await agent.ops;
    if (ops) say(`ops          ${ops.url}/readyz ${ops.url}/livez ${ops.url}/metrics ${ops.url}/view`);
    else if (opts.ops) say(`ops          NOT SERVING: could not listen on ${opts.ops} (the reason is in ${agentLog}); try --ops 127.0.0.1:PORT`);

    // neutron refuses to bind to a host whose agent is not alive: wait for its liveness key
    const deadline = Date.now() + 15_000;
    while ((await client.get(keys.agent(opts.host)).string()) === null) {
      if (Date.now() > deadline) throw new Error(`the agent did not come up within 15 s; see ${agentLog}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const bindings: BindResult[] = [];
    for (const p of DEMO_PORTS) {
      const result = await bindPort(client, { host: opts.host, ...p, timeoutMs: 20_000 });
      bindings.push(result);
      say(`bound        ${p.portId} on ${p.physicalNetwork}${'vlanId' in p ? ` vlan ${p.vlanId}` : ''}: ${JSON.stringify(result)}`);
    }
    say('ports up');
    say('');
    say(renderStatus(await readHostView(client, opts.host)).trimEnd());
    say('');
    say('Try:');
    say(`  ${spp} status --etcd-endpoints ${etcd.endpoint}`);
    say(`  ${spp} port bind --etcd-endpoints ${etcd.endpoint} --host ${opts.host} --port-id p3 --mac fa:16:3e:00:00:03 --phys phys1`);
    say(`  curl -s ${sim.url}/v1/vfs/1`);
    say(`  curl -s ${sim.url}/v1/mirrors/${mirror.secId}`);
    // the agent moves the source's ring into the demo's spp_mirror and answers up (docs/taas.md)
    say(
      `  ${spp} tap create --etcd-endpoints ${etcd.endpoint} --host ${opts.host} --tap-flow-id tf1 --service-port ${DEMO_PORTS[1].portId} --source-port ${DEMO_PORTS[0].portId} --direction IN --wait`,
    );
    if (ops) say(`  curl -s ${ops.url}/readyz`);
    say('Ctrl-C stops everything.');
    return {
      etcdEndpoint: etcd.endpoint,
      sppCtlUrl: sim.url,
      agentLog,
      bindings,
      ...(viz ? { uiUrl: viz.url } : {}),
      ...(ops ? { opsUrl: `${ops.url}/` } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
