/**
 * The measurements. Each takes a running environment and a count, and
 * returns raw samples in ms (or counts); summarising and judging them is the
 * report's job.
 */
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { planLayout } from '../../src/plan/planner';
import { keys } from '../../src/protocol/keys';
import { hostLayout } from '../../src/protocol/layout';
import { parseMappings } from '../../src/protocol/mappings';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';
import { startEmulatorServer } from '../../src/sppctl/emulator';
import { etcdRevision, type RestartWrites, restartWrites } from './etcd-writes';
import { type BenchEnv, BenchHost, BIN, benchMappings, childPids, KeyWatch, MultiAgentChild, procCpuMs } from './harness';
import type { WatchMode } from './multi-agent';
import { type BenchPort, claimAndBind, newPort, setAction } from './neutron';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * With spp_vf's poll period P a request waits for the vf's next tick, so
 * back-to-back samples would all land just after a tick and wait ~P. A random
 * pause of up to P before each sample puts it at a random phase, as a
 * request from neutron would be.
 */
const randomPhase = (pollMs: number): Promise<void> => (pollMs > 0 ? sleep(Math.random() * pollMs) : Promise.resolve());

export interface FloorSamples {
  /** put -> the bench's watcher delivers it. */
  readonly watchPut: number[];
  /** One classifier_table PUT to the emulator over HTTP (the request of a flat plug). */
  readonly sppctlRequest: number[];
  /** One plain etcd put, to its response. */
  readonly etcdPut: number[];
  /** Per run: watchPut + sppctlRequest + etcdPut, the floor of a flat plug. */
  readonly plugFloor: number[];
}

/**
 * The bare protocol steps with no agent logic, on the same etcd and an
 * emulator of the same kind (its own instance, so the agent's vfs are not
 * touched): the least a plug can cost.
 */
export async function measureFloor(env: BenchEnv, runs: number, pollIntervalMs = 0): Promise<FloorSamples> {
  const parsed = parseMappings(benchMappings(1, 1));
  // the emulator reads its options at every command, so the vf is built at once and paced afterwards
  const sim = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, mappings: parsed.configuration! });
  const watch = await KeyWatch.start(env.client, '/bench/floor/');
  const out: FloorSamples = { watchPut: [], sppctlRequest: [], etcdPut: [], plugFloor: [] };
  try {
    const sppctl = new SppCtlClient(httpTransport(sim.url, { timeoutMs: 10_000 }));
    const layout = hostLayout(parsed.configuration!)[0]!;
    for (const cmd of planLayout(layout, await sppctl.vfStatus(1))) await sppctl.send(cmd);
    sim.emulator.setPollInterval(pollIntervalMs);
    const mac = 'fa:16:3e:f1:00:01';
    for (let i = 0; i < runs; i++) {
      const key = `/bench/floor/${i}`;
      let t0 = performance.now();
      const seen = watch.next((e) => e.key === key, `floor key ${key}`);
      await env.client.put(key).value('x');
      const watchPut = (await seen).at - t0;

      await randomPhase(pollIntervalMs);
      t0 = performance.now();
      await sppctl.send({ op: i % 2 === 0 ? 'classifier_add' : 'classifier_del', secId: 1, mac, port: 'ring:0' });
      const sppctlRequest = performance.now() - t0;

      t0 = performance.now();
      await env.client.put(`/bench/floor/put/${i}`).value('up');
      const etcdPut = performance.now() - t0;
      out.watchPut.push(watchPut);
      out.sppctlRequest.push(sppctlRequest);
      out.etcdPut.push(etcdPut);
      out.plugFloor.push(watchPut + sppctlRequest + etcdPut);
    }
  } finally {
    await watch.close();
    await sim.close();
    await env.client.delete().prefix('/bench/floor/');
  }
  return out;
}

export interface PlugSamples {
  /** action = plug put -> port_status = up seen by the watcher. */
  readonly plug: number[];
  /** action = unplug put -> the action key's delete seen by the watcher (the agent deletes every port key in one transaction). */
  readonly unplug: number[];
  /** spp-ctl requests (any method) per plug. */
  readonly requestsPerPlug: number[];
}

/** Plugs and unplugs one port at a time on the host's first vhost; `vlan` gives the port a VLAN (5 spp-ctl requests instead of 1: each run starts on a vhost without tags). */
export async function measurePlugs(host: BenchHost, runs: number, opts: { vlan?: boolean; pollIntervalMs?: number } = {}): Promise<PlugSamples> {
  const { client, watch } = host.env;
  const slot = host.vhostSlots()[0]!;
  const out: PlugSamples = { plug: [], unplug: [], requestsPerPlug: [] };
  for (let i = 0; i < runs; i++) {
    const port = newPort(slot.phys, slot.vhostId, opts.vlan ? 100 + (i % 3000) : undefined);
    await claimAndBind(client, host.host, port);
    await randomPhase(opts.pollIntervalMs ?? 0);
    host.sim.emulator.clearLog();
    const statusKey = keys.portStatus(host.host, port.portId);
    const up = watch.next((e) => e.type === 'put' && e.key === statusKey && e.value === 'up', `port_status up of ${port.portId}`);
    let t0 = performance.now();
    await setAction(client, host.host, port.portId, 'plug');
    out.plug.push((await up).at - t0);
    out.requestsPerPlug.push(host.requests());

    await randomPhase(opts.pollIntervalMs ?? 0);
    const actionKey = keys.action(host.host, port.portId);
    const gone = watch.next((e) => e.type === 'delete' && e.key === actionKey, `keys of ${port.portId} deleted`);
    t0 = performance.now();
    await setAction(client, host.host, port.portId, 'unplug');
    out.unplug.push((await gone).at - t0);
    // a free vhost keeps its VLAN tags: a flat port, plugged and unplugged unpaced, clears them, so every VLAN run is a first VLAN plug
    if (opts.vlan) await clearTags(host, slot, opts.pollIntervalMs ?? 0);
  }
  watch.clear();
  return out;
}

async function clearTags(host: BenchHost, slot: { phys: string; vhostId: number }, pollMs: number): Promise<void> {
  const { client, watch } = host.env;
  host.setPollInterval(0);
  try {
    const flat = newPort(slot.phys, slot.vhostId);
    await claimAndBind(client, host.host, flat);
    const statusKey = keys.portStatus(host.host, flat.portId);
    const up = watch.next((e) => e.type === 'put' && e.key === statusKey && e.value === 'up', `port_status up of ${flat.portId}`);
    await setAction(client, host.host, flat.portId, 'plug');
    await up;
    const actionKey = keys.action(host.host, flat.portId);
    const gone = watch.next((e) => e.type === 'delete' && e.key === actionKey, `keys of ${flat.portId} deleted`);
    await setAction(client, host.host, flat.portId, 'unplug');
    await gone;
  } finally {
    host.setPollInterval(pollMs);
  }
}

export interface BurstSamples {
  /** First action put -> the last port_status up seen. */
  readonly allUp: number[];
  /** spp-ctl requests (any method) per port, per burst. */
  readonly requestsPerPort: number[];
  /** Mutating requests per port, per burst. */
  readonly mutationsPerPort: number[];
  /** The most requests one vf had to serve in a burst (spp-ctl serialises per vf). */
  readonly busiestVfRequests: number[];
  /** CPU the agent child used per burst (ms, 10 ms resolution). */
  readonly agentCpuMs: number[];
  /** CPU the bench process (watcher, driver writes, emulator) used per burst (ms). */
  readonly benchCpuMs: number[];
  readonly ports: number;
}

/** Ports for every vhost of the host, claimed and bound (not yet plugged). */
export async function bindAll(host: BenchHost): Promise<BenchPort[]> {
  const ports = host.vhostSlots().map((s) => newPort(s.phys, s.vhostId));
  await Promise.all(ports.map((p) => claimAndBind(host.env.client, host.host, p)));
  return ports;
}

/** Puts action = plug for every port at once; resolves with ms until all are up. */
export async function plugAll(host: BenchHost, ports: readonly BenchPort[], timeoutMs = 60_000): Promise<number> {
  const { watch, client } = host.env;
  const ups = ports.map((p) => {
    const key = keys.portStatus(host.host, p.portId);
    return watch.next((e) => e.type === 'put' && e.key === key && e.value === 'up', `port_status up of ${p.portId}`, timeoutMs);
  });
  const t0 = performance.now();
  await Promise.all(ports.map((p) => setAction(client, host.host, p.portId, 'plug')));
  const seen = await Promise.all(ups);
  return Math.max(...seen.map((e) => e.at)) - t0;
}

export async function unplugAll(host: BenchHost, ports: readonly BenchPort[]): Promise<void> {
  const { watch, client } = host.env;
  const gone = ports.map((p) => {
    const key = keys.action(host.host, p.portId);
    return watch.next((e) => e.type === 'delete' && e.key === key, `keys of ${p.portId} deleted`, 60_000);
  });
  await Promise.all(ports.map((p) => setAction(client, host.host, p.portId, 'unplug')));
  await Promise.all(gone);
}

/** Every vhost of the host plugged at once, `runs` times (unplugged in between). */
export async function measureBurst(host: BenchHost, runs: number): Promise<BurstSamples> {
  const out: BurstSamples = {
    allUp: [],
    requestsPerPort: [],
    mutationsPerPort: [],
    busiestVfRequests: [],
    agentCpuMs: [],
    benchCpuMs: [],
    ports: host.vhostSlots().length,
  };
  for (let i = 0; i < runs; i++) {
    const ports = await bindAll(host);
    host.sim.emulator.clearLog();
    const agentCpu = host.cpuMs();
    const benchCpu = process.cpuUsage();
    out.allUp.push(await plugAll(host, ports));
    const used = process.cpuUsage(benchCpu);
    out.benchCpuMs.push((used.user + used.system) / 1000);
    out.agentCpuMs.push(host.cpuMs() - agentCpu);
    const log = host.sim.emulator.log();
    out.requestsPerPort.push(log.length / ports.length);
    out.mutationsPerPort.push(log.filter((e) => e.method !== 'GET').length / ports.length);
    const perVf = new Map<string, number>();
    for (const e of log) {
      const vf = /^\/v1\/vfs\/([0-9]+)/.exec(e.path)?.[1] ?? '-';
      perVf.set(vf, (perVf.get(vf) ?? 0) + 1);
    }
    out.busiestVfRequests.push(Math.max(...perVf.values()));
    await unplugAll(host, ports);
    host.env.watch.clear();
  }
  return out;
}

export interface RestartSamples {
  /** Spawn of the new process -> every port plugged again (its `port is up` log line). */
  readonly fromSpawn: number[];
  /** The new agent's first log line ("agent starting", i.e. after Node start-up and module loading) -> all up. */
  readonly fromStart: number[];
  /** Mutating spp-ctl requests after the restart, until all ports were re-announced and every NIC ready. */
  readonly mutations: number[];
  /** etcd writes of each restart, from the kill to `settleMs` after all ports were up again (re-asserts included). */
  readonly writes: RestartWrites[];
  readonly ports: number;
}

/**
 * With every vhost plugged: SIGKILL the agent, start it again, time until
 * every port's plug run ended (`port is up` in its log: a restart puts
 * port_status only where a driver may still wait, docs/protocol.md).
 */
export async function measureRestart(host: BenchHost, runs: number, settleMs = 1000): Promise<RestartSamples & { plugged: BenchPort[] }> {
  const ports = await bindAll(host);
  await plugAll(host, ports);
  const out: RestartSamples = { fromSpawn: [], fromStart: [], mutations: [], writes: [], ports: ports.length };
  const { watch } = host.env;
  // a node dies in its steady state: let the start-up and its up re-puts (reassert timers) finish first
  await sleep(settleMs);
  for (let i = 0; i < runs; i++) {
    watch.clear();
    const before = await etcdRevision(host.env.client);
    await host.killAgent('SIGKILL');
    host.sim.emulator.clearLog();
    const { spawnedAt } = await host.spawnAgent();
    const up = await Promise.all(ports.map((p) => host.waitLog((r) => r.message === 'port is up' && r.port === p.portId)));
    const first = host.logs[0]!.at;
    const last = Math.max(...up.map((l) => l.at));
    out.fromSpawn.push(last - spawnedAt);
    out.fromStart.push(last - first);
    out.mutations.push(host.mutations());
    await sleep(settleMs);
    out.writes.push(await restartWrites(host, before, 0));
  }
  watch.clear();
  return { ...out, plugged: ports };
}

/** VmRSS of the agent after it settled (a short pause lets start-up garbage be collected). */
export async function settledRssKb(host: BenchHost, pauseMs = 1000): Promise<number> {
  await sleep(pauseMs);
  return host.rssKb();
}

/**
 * The floor of a restart's own: spawn -> exit of `node bin/spp.js agent
 * --help`, i.e. Node's start-up and loading the CLI (the agent's modules load
 * only when it runs, so this is a lower bound).
 */
export async function measureProcessStart(runs: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'agent', '--help'], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`spp agent --help exited ${code}`))));
    });
    out.push(performance.now() - t0);
  }
  return out;
}

/** CPU used so far by the etcd members this process started, ms. */
function etcdCpuMs(): number {
  return childPids('etcd').reduce((sum, pid) => sum + procCpuMs(pid), 0);
}

export interface ScaleOptions {
  readonly hosts: number;
  readonly nics: number;
  readonly vhosts: number;
  readonly watch: WatchMode;
  /** Pause after the plugs before the memory reading: the agents' `up` re-puts (0.25 s after a plug by default) are done. */
  readonly settleMs?: number;
  /** Pause between a full GC and the RSS reading (V8 unmaps freed pages a moment after the collection). */
  readonly memoryIntervalMs?: number;
}

export interface ScaleSamples {
  readonly hosts: number;
  readonly ports: number;
  /** Spawn of the runner -> every NIC of every host ready. */
  readonly readyMs: number;
  /** VmRSS of the runner with every NIC ready and no port, after a full GC, KiB. */
  readonly idleRssKb: number;
  /** VmRSS of the runner with every port up, after a full GC, KiB. */
  readonly pluggedRssKb: number;
  /** V8 heap in use after a full GC, idle and with every port up, KiB. */
  readonly idleHeapKb: number;
  readonly pluggedHeapKb: number;
  /** First `action = plug` put -> the last `port_status = up` seen. */
  readonly allUpMs: number;
  /** CPU of the runner from the first plug to the last up (ms, 10 ms resolution). */
  readonly agentCpuMs: number;
  /** CPU of etcd (every member) and of the bench process (emulators, watcher, driver writes) over the same span. */
  readonly etcdCpuMs: number;
  readonly benchCpuMs: number;
  /** CPU of the runner while idle for `settleMs` with every port up (lease keep-alives, reassert re-puts). */
  readonly settleCpuMs: number;
  readonly settleMs: number;
  /** spp-ctl requests over all emulators during the plugs. */
  readonly requests: number;
  /** The runner's exit code after SIGTERM (0: every agent stopped cleanly). */
  readonly exitCode: number | null;
  /** Log records (warn and above) the runner wrote. */
  readonly warnings: string[];
}

/**
 * `hosts` hosts of `nics` x `vhosts` served by one multi-agent process:
 * its RSS with every NIC ready, then every vhost of every host claimed,
 * bound and plugged at once as the Python driver does, its RSS again once
 * all are up.
 */
export async function measureScale(env: BenchEnv, opts: ScaleOptions): Promise<ScaleSamples> {
  const settleMs = opts.settleMs ?? 3500;
  const hosts: BenchHost[] = [];
  let runner: MultiAgentChild | undefined;
  try {
    const started = await Promise.allSettled(
      Array.from({ length: opts.hosts }, () => BenchHost.start(env, { nics: opts.nics, vhosts: opts.vhosts, lenient: true, label: 'scale' })),
    );
    for (const r of started) if (r.status === 'fulfilled') hosts.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    runner = await MultiAgentChild.spawn(env, hosts, { watch: opts.watch });
    const idle = await runner.settledMemory(opts.memoryIntervalMs);

    const ports = hosts.map((h) => ({ host: h, ports: h.vhostSlots().map((s) => newPort(s.phys, s.vhostId)) }));
    await Promise.all(ports.flatMap(({ host, ports }) => ports.map((p) => claimAndBind(env.client, host.host, p))));
    for (const h of hosts) h.sim.emulator.clearLog();
    const ups = ports.flatMap(({ host, ports }) =>
      ports.map((p) => {
        const key = keys.portStatus(host.host, p.portId);
        return env.watch.next((e) => e.type === 'put' && e.key === key && e.value === 'up', `port_status up of ${p.portId}`, 120_000);
      }),
    );
    const cpu0 = runner.cpuMs();
    const etcdCpu0 = etcdCpuMs();
    const benchCpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(ports.flatMap(({ host, ports }) => ports.map((p) => setAction(env.client, host.host, p.portId, 'plug'))));
    const seen = await Promise.all(ups);
    const allUpMs = Math.max(...seen.map((e) => e.at)) - t0;
    const agentCpuMs = runner.cpuMs() - cpu0;
    const etcdCpu = etcdCpuMs() - etcdCpu0;
    const benchCpu = process.cpuUsage(benchCpu0);
    const requests = hosts.reduce((n, h) => n + h.requests(), 0);
    env.watch.clear();
    const cpu1 = runner.cpuMs();
    await sleep(settleMs);
    const settleCpuMs = runner.cpuMs() - cpu1;
    const plugged = await runner.settledMemory(opts.memoryIntervalMs);
    const exitCode = await runner.stop();
    return {
      hosts: opts.hosts,
      ports: seen.length,
      readyMs: runner.readyMs,
      idleRssKb: idle.rssKb,
      pluggedRssKb: plugged.rssKb,
      idleHeapKb: idle.heapUsedKb,
      pluggedHeapKb: plugged.heapUsedKb,
      allUpMs,
      agentCpuMs,
      etcdCpuMs: etcdCpu,
      benchCpuMs: (benchCpu.user + benchCpu.system) / 1000,
      settleCpuMs,
      settleMs,
      requests,
      exitCode,
      warnings: runner.warnings(),
    };
  } finally {
    await runner?.stop();
    await Promise.all(hosts.map((h) => h.close()));
  }
}
