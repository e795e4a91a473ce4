/**
 * The history benchmark: one host's etcd history of about 10,000 revisions
 * (ports plugged and unplugged on every vhost, the agent's port_status and
 * cleanup writes included, as a real cluster holds them) written into a real
 * etcd, then read back revision by revision and replayed, as
 * `spp replay --etcd-endpoints E --host H` does, in a child process (this
 * file run with `child`), so the figure includes a cold start of the replay.
 *
 * Standalone: `node dist/scripts/bench/replay-history.js [REVISIONS]`.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { connectEtcd } from '../../src/etcd/connect';
import { LocalEtcd } from '../../src/localetcd/etcd-server';
import { FREE_VHOST } from '../../src/protocol/codecs';
import { keys } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { replay } from '../../src/replay';
import { readHistory } from '../../src/replay/etcd-history';
import { buildHost } from '../../src/setup/build';
import { childFigure } from './child';

export type HistoryBench =
  | { readonly failed: string }
  | {
      readonly revisions: number;
      /** Ports the history plugs and unplugs (one port machine each). */
      readonly ports: number;
      readonly readMs: number;
      readonly replayMs: number;
      readonly totalMs: number;
      readonly steps: number;
    };

const HOST = 'bench-history';
const MAPPINGS = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';

const mac = (n: number): string => `fa:16:3e:${[(n >> 16) & 255, (n >> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
const portId = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

/** Writes plug/unplug cycles on every vhost (6 revisions a cycle, vhosts in parallel) until the head passes `revisions`: the head and the ports. */
async function writeHistory(client: Etcd3, revisions: number): Promise<{ head: number; ports: number }> {
  const configuration = parseMappings(MAPPINGS, { beyondRealLimits: true }).configuration!;
  await buildHost(client, HOST, configuration);
  const vhosts = configuration.flatMap((nic, i) =>
    Array.from({ length: nic.num_vhost }, (_, k) => ({ phys: nic.physical_network, id: configuration.slice(0, i).reduce((n, x) => n + x.num_vhost, 0) + k })),
  );
  let head = Number((await client.get(keys.configuration(HOST)).exec()).header.revision);
  let next = 0;
  const cycle = async (v: { phys: string; id: number }): Promise<void> => {
    while (head < revisions) {
      const n = ++next;
      const port = portId(n);
      const vhostKey = keys.vhost(HOST, v.phys, v.id);
      await client.put(vhostKey).value(port);
      await client.put(keys.bindPort(HOST, port)).value(JSON.stringify({ vhost_id: v.id, mac_address: mac(n) }));
      await client.put(keys.action(HOST, port)).value('plug');
      await client.put(keys.portStatus(HOST, port)).value('up');
      await client.put(keys.action(HOST, port)).value('unplug');
      const res = await client
        .if(keys.action(HOST, port), 'Value', '==', 'unplug')
        .then(
          client.put(vhostKey).value(FREE_VHOST),
          client.delete().key(keys.bindPort(HOST, port)),
          client.delete().key(keys.action(HOST, port)),
          client.delete().key(keys.portStatus(HOST, port)),
        )
        .commit();
      head = Math.max(head, Number(res.header.revision));
    }
  };
  await Promise.all(vhosts.map(cycle));
  return { head: Number((await client.get(keys.configuration(HOST)).exec()).header.revision), ports: next };
}

/** Sets up etcd with the history, then times the read and the replay in a child process. */
export async function benchReplayHistory(opts: { revisions?: number; timeoutMs?: number } = {}): Promise<HistoryBench> {
  const etcd = await LocalEtcd.start();
  const client = connectEtcd({ endpoints: etcd.endpoints });
  try {
    const { head: revisions, ports } = await writeHistory(client, opts.revisions ?? 10_000);
    const child = await childFigure<{ readMs: number; replayMs: number; totalMs: number; steps: number }>(
      [__filename, 'child', etcd.endpoint],
      opts.timeoutMs ?? 120_000,
    );
    return 'failed' in child ? child : { revisions, ports, ...child };
  } catch (err) {
    return { failed: (err as Error).message };
  } finally {
    client.close();
    await etcd.stop();
  }
}

/** Child side: read the host's whole history from etcd and replay it; print the times. */
async function child(endpoint: string): Promise<void> {
  const client = connectEtcd({ endpoints: [endpoint] });
  try {
    const t0 = performance.now();
    const history = await readHistory(client, { source: endpoint, host: HOST });
    const t1 = performance.now();
    const report = await replay([history.input], { host: HOST });
    const t2 = performance.now();
    const host = report.hosts[0]!;
    if (!report.ok || host.ports.some((p) => p.state !== 'removed'))
      throw new Error(
        `the history did not replay cleanly: ok=${report.ok}, ports ${host.ports
          .filter((p) => p.state !== 'removed')
          .map((p) => `${p.portId} ${p.state}`)
          .join(', ')}`,
      );
    process.stdout.write(`${JSON.stringify({ readMs: t1 - t0, replayMs: t2 - t1, totalMs: t2 - t0, steps: host.steps })}\n`);
  } finally {
    client.close();
  }
}

if (require.main === module) {
  const [mode, arg] = process.argv.slice(2);
  const job =
    mode === 'child'
      ? child(arg!)
      : benchReplayHistory({ revisions: mode === undefined ? 10_000 : Number(mode) }).then((r) => void process.stdout.write(`${JSON.stringify(r)}\n`));
  job.then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
