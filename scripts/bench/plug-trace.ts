/**
 * The steps of one flat plug against one clock (issue 32 item 1): the agent
 * runs in the bench's process, so its listed moments (the watch event in,
 * the port machine's `plugging`, the spp-ctl request, `port is up` after the
 * put's answer) and the bench's own (the action put, `up` seen by the bench's
 * watcher) are all `performance.now()`. In-process, the agent shares the
 * bench's CPU: the sum is not `plug.flat`, the split is the point.
 *
 *   node dist/scripts/bench/plug-trace.js [plugs]
 */
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { tap } from 'rxjs';
import { startAgent } from '../../src/daemon/daemon';
import { resolveSettings } from '../../src/daemon/settings';
import { listWatch } from '../../src/etcd/listwatch';
import { createLogger } from '../../src/log';
import { AgentMetrics } from '../../src/ops/metrics';
import { keys } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { buildHost } from '../../src/setup/build';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';
import { startEmulatorServer } from '../../src/sppctl/emulator';
import { BenchEnv, benchMappings } from './harness';
import { claimAndBind, newPort, setAction } from './neutron';
import { summarize } from './stats';

/** The moments of one plug, ms on the bench's clock. */
export interface Marks {
  put?: number;
  acked?: number;
  /** The agent's watcher received the action put (before the list-watch's snapshot read). */
  watched?: number;
  event?: number;
  plugging?: number;
  sendStart?: number;
  sendEnd?: number;
  /** The port_status transaction answered (the agent's writer, through its metrics hook). */
  putAnswered?: number;
  /** The end of a vf status read after the request (observing the vhost), when one is made. */
  readEnd?: number;
  upLogged?: number;
  upSeen?: number;
}

const STEPS: Array<[string, keyof Marks, keyof Marks]> = [
  ['action put -> its answer (bench)', 'put', 'acked'],
  ["action put -> the agent's watcher receives it", 'put', 'watched'],
  [
    'watcher -> the list-watch emits it (its one-revision snapshot read; negative when a read an earlier event started already held the put)',
    'watched',
    'event',
  ],
  ["action put -> the agent's list-watch emits it", 'put', 'event'],
  ['event -> port machine in plugging (store, sync, intent, machine)', 'event', 'plugging'],
  ['plugging -> spp-ctl request sent (vf queue, plan)', 'plugging', 'sendStart'],
  ['spp-ctl request -> its answer', 'sendStart', 'sendEnd'],
  ['answer -> vf status read (GET /v1/vfs/<id>), when one is made', 'sendEnd', 'readEnd'],
  ['answer -> the port_status transaction answered', 'sendEnd', 'putAnswered'],
  ['transaction answered -> `port is up` reaches the log stream', 'putAnswered', 'upLogged'],
  ['action put -> up seen by the bench watcher (total)', 'put', 'upSeen'],
];

/** `plugs` flat plugs (after 3 to warm up) on vhost 0 of an in-process agent: the moments of each. */
export async function tracePlugs(plugs: number): Promise<Marks[]> {
  const env = await BenchEnv.start();
  const parsed = parseMappings(benchMappings(2, 2));
  const sim = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, mappings: parsed.configuration! });
  const host = env.hostName('trace');
  await buildHost(env.client, host, parsed.configuration!);
  let current: Marks = {};
  let portId = '';
  const stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      const at = performance.now();
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as Record<string, unknown>;
        if (r.port !== portId) continue;
        if (r.message === 'port state' && r.state === 'plugging') current.plugging ??= at;
        if (r.message === 'port is up') current.upLogged ??= at;
      }
      cb();
    },
  });
  const sppctl = new SppCtlClient(httpTransport(sim.url));
  const traced = {
    processes: () => sppctl.processes(),
    vfStatus: async (secId: number) => {
      const status = await sppctl.vfStatus(secId);
      if (current.sendEnd !== undefined && current.upLogged === undefined) current.readEnd = performance.now();
      return status;
    },
    send: async (cmd: Parameters<typeof sppctl.send>[0]) => {
      // the plug's request only (the unplug's comes after `port is up`)
      const marks = current.upLogged === undefined ? current : {};
      marks.sendStart ??= performance.now();
      await sppctl.send(cmd);
      marks.sendEnd = performance.now();
    },
    mirrorStatus: (secId: number) => sppctl.mirrorStatus(secId),
    sendMirror: (cmd: Parameters<typeof sppctl.sendMirror>[0]) => sppctl.sendMirror(cmd),
  };
  const settings = resolveSettings({ host, etcdEndpoints: env.etcd.endpoints.join(','), sppCtl: sim.url, logLevel: 'info' });
  const metrics = new (class extends AgentMetrics {
    override etcdWrite(op: 'port_status' | 'unplug_cleanup', result: 'written' | 'condition_failed' | 'error'): void {
      if (op === 'port_status') current.putAnswered ??= performance.now();
      super.etcdWrite(op, result);
    }
  })();
  const agent = startAgent(settings, {
    metrics,
    logger: createLogger({ level: 'info', format: 'json', stream }),
    sppctl: traced,
    client: env.client,
    watch: (ranges) =>
      listWatch(env.client, ranges, {
        onWatchEvents: (events) => {
          if (portId !== '' && events.some((ev) => ev.type === 'put' && ev.key === keys.action(host, portId))) current.watched ??= performance.now();
        },
      }).pipe(
        tap((ev) => {
          if (portId !== '' && (ev.type === 'put' || ev.type === 'delete') && ev.key === keys.action(host, portId)) current.event ??= performance.now();
        }),
      ),
  });
  const rows: Marks[] = [];
  try {
    const deadline = Date.now() + 20_000;
    while (!agent.controller.view().nics.every((n) => n.state === 'ready') || agent.controller.view().nics.length < 2) {
      if (Date.now() > deadline) throw new Error('the NICs did not become ready');
      await new Promise((r) => setTimeout(r, 20));
    }
    for (let i = 0; i < plugs + 3; i++) {
      const port = newPort('phys1', 0);
      await claimAndBind(env.client, host, port);
      portId = port.portId;
      current = {};
      const statusKey = keys.portStatus(host, port.portId);
      const up = env.watch.next((e) => e.type === 'put' && e.key === statusKey && e.value === 'up', `up of ${port.portId}`);
      current.put = performance.now();
      await setAction(env.client, host, port.portId, 'plug');
      current.acked = performance.now();
      current.upSeen = (await up).at;
      if (i >= 3) rows.push(current); // the first plugs warm the code paths
      const actionKey = keys.action(host, port.portId);
      const gone = env.watch.next((e) => e.type === 'delete' && e.key === actionKey, `keys of ${port.portId} deleted`);
      await setAction(env.client, host, port.portId, 'unplug');
      await gone;
      env.watch.clear();
    }
  } finally {
    await agent.stop();
    await sim.close();
    await env.close();
  }
  return rows;
}

/** Per step: its label and the median and max over the plugs (ms); a step no plug went through is left out. */
export function traceSteps(rows: readonly Marks[]): Array<{ label: string; median: number; max: number }> {
  return STEPS.flatMap(([label, from, to]) => {
    const xs = rows.map((m) => (m[to] ?? Number.NaN) - (m[from] ?? Number.NaN)).filter((x) => Number.isFinite(x));
    if (xs.length === 0) return [];
    const s = summarize(xs);
    return [{ label, median: s.median, max: s.max }];
  });
}

async function main(plugs: number): Promise<void> {
  const rows = await tracePlugs(plugs);
  process.stdout.write(`one flat plug, step by step (${rows.length} plugs, medians and max, ms; agent in the bench process)\n`);
  for (const s of traceSteps(rows)) process.stdout.write(`${s.median.toFixed(2).padStart(8)} ${s.max.toFixed(2).padStart(8)}  ${s.label}\n`);
}

if (require.main === module) {
  main(Number(process.argv[2] ?? 30)).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`plug-trace: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
