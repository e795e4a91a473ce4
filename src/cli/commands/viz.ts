import { parseListen } from '../../listen';
import { InputError, replay } from '../../replay';
import { startVizServer } from '../../viz/server';
import { allowHostOption, allowHostsOf, type CliCommand, str, UsageError } from '../framework';
import { untilSignal } from '../signals';
import { type OpenedSources, openSources, sourceOptions } from './replay-sources';
import { clusterVizOptions, runClusterViz, wantsCluster } from './viz-cluster';

export const vizCommand: CliCommand = {
  path: ['viz'],
  summary: 'serve the visualizer over a replay (an etcd snapshot, backup, event log or etcd history) or over a whole cluster in etcd',
  positionals: '--replay INPUT... | --replay --etcd-endpoints E | --etcd-endpoints E',
  description: [
    "Replays INPUT (any input `spp replay` reads) with the agent's own machines and",
    'serves the same page a running agent serves with --ui, with a slider over the',
    "replay's steps (one per etcd revision for etcd history). For a live agent use",
    '`spp agent --ui 127.0.0.1:PORT` instead.',
    '',
    'With --etcd-endpoints (and no --replay) it serves the cluster view instead: every',
    'host found in etcd (agent alive or not, NICs, ports by state), live through a watch;',
    "no agent is needed. --agent-ui HOST=URL adds that agent's live view to HOST's page.",
    '',
    'examples:',
    '  spp viz --replay before.txt after.txt --host spp4',
    '  spp viz --replay --etcd-endpoints 127.0.0.1:2379 --host spp4 --from-revision 120',
    '  spp viz --replay backup.db --host spp4',
    '  spp viz --replay agent.jsonl --listen 127.0.0.1:8080',
    '  spp viz --etcd-endpoints 127.0.0.1:2379 --agent-ui spp4=http://127.0.0.1:7780/',
  ].join('\n'),
  options: {
    replay: { type: 'boolean', help: 'replay the INPUT files, or the etcd history with --etcd-endpoints (required: the only source besides a live agent)' },
    host: { type: 'string', arg: 'HOST', help: 'the host to show when the input has several (default: the first)' },
    listen: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:7781', help: 'where to serve the page (default 127.0.0.1:7781)' },
    ...allowHostOption,
    ...sourceOptions,
    ...clusterVizOptions,
  },
  async run(values, positionals, io) {
    let listen: { host: string; port: number };
    try {
      listen = parseListen(str(values, 'listen', true), '--listen');
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const allowHosts = allowHostsOf(values);
    if (values.replay !== true && wantsCluster(values)) {
      if (positionals.length > 0) throw new UsageError('the cluster view (--etcd-endpoints) takes no INPUT files; did you mean --replay?');
      return runClusterViz(values, listen, io, allowHosts);
    }
    if (values.replay !== true)
      throw new UsageError('give --replay with INPUT files or --etcd-endpoints (a replay), or --etcd-endpoints alone (the cluster view)');
    const host = str(values, 'host');
    let sources: OpenedSources | undefined;
    let report;
    try {
      sources = await openSources(values, positionals, io);
      const observed = sources.observed;
      // the replay needs its sources only while it runs (a backup's temporary etcd goes right after)
      report = await replay(sources.inputs, {
        ...(host !== undefined ? { host } : {}),
        ...(observed ? { observed: observed.statuses, observedFrom: observed.from } : {}),
        frames: true,
      });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(`spp viz: ${(err as Error).message}\n`);
      return err instanceof InputError ? 2 : 1;
    } finally {
      await sources?.close();
    }
    const shown = report.hosts[0];
    if (!shown) {
      io.err(`spp viz: no host${host ? ` ${host}` : ''} in the input\n`);
      return 1;
    }
    if (report.hosts.length > 1) io.err(`spp viz: the input has ${report.hosts.length} hosts; showing ${shown.host} (choose with --host)\n`);
    const server = await startVizServer({ listen, allowHosts, source: { kind: 'frames', frames: [...(shown.frames ?? [])] } });
    io.out(`visualizer ${server.url} (host ${shown.host}, ${shown.frames?.length ?? 0} steps); Ctrl-C stops\n`);
    await untilSignal();
    await server.close();
    return 0;
  },
};
