/**
 * `spp viz --etcd-endpoints E`: the cluster view, from etcd alone. The etcd
 * options are handled here only, so that the shared etcd TLS/auth options
 * can replace them in one place.
 */
import { connectEtcd } from '../../etcd/connect';
import { watchCluster } from '../../viz/cluster';
import { startVizServer } from '../../viz/server';
import { etcdConnectOptions, etcdOptions } from '../etcd-options';
import { type Io, type OptionSpec, UsageError, type Values } from '../framework';
import { untilSignal } from '../signals';

export const clusterVizOptions: Record<string, OptionSpec> = {
  ...etcdOptions,
  'agent-ui': {
    type: 'string',
    multiple: true,
    arg: 'HOST=URL',
    help: "where HOST's agent serves --ui (repeatable), e.g. spp4=http://127.0.0.1:7780/: drilling into HOST shows its live view",
  },
};

/** Whether the command line asks for the cluster view. */
export const wantsCluster = (values: Values): boolean => values['etcd-endpoints'] !== undefined || values['agent-ui'] !== undefined;

export function parseAgentUi(values: Values): Map<string, string> {
  const raw = values['agent-ui'];
  const items = (Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).flatMap((s) => String(s).split(','));
  const out = new Map<string, string>();
  for (const item of items.map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = item.indexOf('=');
    const host = item.slice(0, eq).trim();
    const url = item.slice(eq + 1).trim();
    if (eq <= 0 || host.includes('/')) throw new UsageError(`--agent-ui ${JSON.stringify(item)}: give HOST=URL, e.g. spp4=http://127.0.0.1:7780/`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--agent-ui ${JSON.stringify(item)}: ${JSON.stringify(url)} is not a URL (http://HOST:PORT/)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
      throw new UsageError(`--agent-ui ${JSON.stringify(item)}: the URL must be http:// or https://`);
    out.set(host, parsed.toString());
  }
  return out;
}

export async function runClusterViz(values: Values, listen: { host: string; port: number }, io: Io, allowHosts: readonly string[] = []): Promise<number> {
  const conn = etcdConnectOptions(values, io.env);
  const endpoints = conn.endpoints;
  const agentUi = parseAgentUi(values);
  const client = connectEtcd(conn);
  const cluster = watchCluster(client, agentUi);
  try {
    const server = await startVizServer({ listen, allowHosts, source: { kind: 'cluster', cluster, agentUi } });
    io.out(`visualizer ${server.url} (cluster view of etcd ${endpoints.join(',')}, read-only); Ctrl-C stops\n`);
    const warn = setTimeout(() => {
      const v = cluster.view();
      if (!v.connected) io.err(`spp viz: etcd at ${endpoints.join(',')} has not answered yet (${v.reason}); the page shows the hosts once it does\n`);
    }, 5000);
    await untilSignal();
    clearTimeout(warn);
    await server.close();
    return 0;
  } finally {
    cluster.close();
    client.close();
  }
}
