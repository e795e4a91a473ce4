/**
 * Watch fan-out: what one bind costs etcd on a cloud of N hosts, each with
 * its own agent, etcd client and host-scoped list-watch (the multi-agent
 * runner with `--watch own`). Events are counted by etcd itself (its
 * `etcd_debugging_mvcc_events_total`: events sent to watchers), less the
 * bench's own watcher's; CPU is etcd's, less its idle CPU over as long.
 */

import { performance } from 'node:perf_hooks';
import { firstValueFrom } from 'rxjs';
import { listWatch } from '../../src/etcd/listwatch';
import { hostWatchRanges, keys, ROOT } from '../../src/protocol/keys';
import { type BenchEnv, BenchHost, childPids, MultiAgentChild, procCpuMs } from './harness';
import { claimAndBind, newPort, setAction } from './neutron';

export interface FanoutSamples {
  readonly hosts: number;
  readonly binds: number;
  /** Watch events etcd sent to all agents, per bind (claim, bind_port, plug -> up, unplug -> keys gone). */
  readonly eventsPerBind: number;
  /** etcd CPU per bind, its idle CPU over the same time subtracted (ms; /proc ticks of 10 ms). */
  readonly etcdCpuPerBindMs: number;
  /** Keys the agent of one host reads at start-up (its list), and keys under the protocol root. */
  readonly startupListKeys: number;
  readonly cloudKeys: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventsSent(env: BenchEnv): Promise<number> {
  const text = await (await fetch(`http://${env.etcd.endpoints[0]}/metrics`)).text();
  const line = /^etcd_debugging_mvcc_events_total ([0-9.e+]+)$/m.exec(text);
  if (!line) throw new Error('etcd /metrics has no etcd_debugging_mvcc_events_total');
  return Number(line[1]);
}

const etcdCpuMs = (): number => childPids('etcd').reduce((sum, pid) => sum + procCpuMs(pid), 0);

export async function measureFanout(env: BenchEnv, opts: { hosts: number; binds: number }): Promise<FanoutSamples> {
  const hosts: BenchHost[] = [];
  let runner: MultiAgentChild | undefined;
  try {
    const started = await Promise.allSettled(
      Array.from({ length: opts.hosts }, () => BenchHost.start(env, { nics: 1, vhosts: 4, lenient: true, label: 'fanout' })),
    );
    for (const r of started) if (r.status === 'fulfilled') hosts.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    runner = await MultiAgentChild.spawn(env, hosts, { watch: 'own' });
    const host = hosts[0]!;
    const slots = host.vhostSlots();
    const cycle = async (i: number): Promise<void> => {
      const slot = slots[i % slots.length]!;
      const port = newPort(slot.phys, slot.vhostId);
      const up = env.watch.next(
        (e) => e.type === 'put' && e.key === keys.portStatus(host.host, port.portId) && e.value === 'up',
        `up of ${port.portId}`,
        30_000,
      );
      await claimAndBind(env.client, host.host, port);
      await setAction(env.client, host.host, port.portId, 'plug');
      await up;
      const gone = env.watch.next((e) => e.type === 'delete' && e.key === keys.action(host.host, port.portId), `keys of ${port.portId} deleted`, 30_000);
      await setAction(env.client, host.host, port.portId, 'unplug');
      await gone;
    };
    await cycle(0); // warm-up: first-plug paths, connections
    await sleep(3500); // the warm-up port's `up` re-puts are over

    const events0 = await eventsSent(env);
    const benchEvents0 = env.watch.events.length;
    const cpu0 = etcdCpuMs();
    const t0 = performance.now();
    for (let i = 1; i <= opts.binds; i++) await cycle(i);
    const busyMs = performance.now() - t0;
    const cpuBusy = etcdCpuMs() - cpu0;
    const sent = (await eventsSent(env)) - events0 - (env.watch.events.length - benchEvents0);
    await sleep(3500);
    const idle0 = etcdCpuMs();
    await sleep(busyMs);
    const cpuIdle = etcdCpuMs() - idle0;

    const reset = await firstValueFrom(listWatch(env.client, hostWatchRanges(host.host)));
    const startupListKeys = reset.type === 'reset' ? reset.entries.length : NaN;
    const cloudKeys = Number(await env.client.getAll().prefix(ROOT).count());
    return {
      hosts: opts.hosts,
      binds: opts.binds,
      eventsPerBind: sent / opts.binds,
      etcdCpuPerBindMs: Math.max(0, cpuBusy - cpuIdle) / opts.binds,
      startupListKeys,
      cloudKeys,
    };
  } finally {
    await runner?.stop();
    await Promise.all(hosts.map((h) => h.close()));
  }
}
