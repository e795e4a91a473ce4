/**
 * The scale runner: the agents of several hosts in one process, by default
 * sharing one etcd client and one list-watch (`--watch own`: a client and a
 * host-scoped list-watch each, as the daemon has), so that the bench can measure
 * what 1,000 ports cost in memory without 63 Node processes. The production
 * daemon (`spp agent`) serves one host; this exists for scale tests only.
 *
 * Run as a child process (its RSS is its own):
 *   node dist/scripts/bench/multi-agent.js --etcd-endpoints 127.0.0.1:2379 \
 *     --host node1=http://127.0.0.1:7777 --host node2=http://127.0.0.1:7778
 * stdout: one `READY {"hosts":N,"nics":M,"ms":T}` line once every NIC of
 * every host is ready, one `STOPPED {...}` line after SIGTERM/SIGINT, and
 * on SIGUSR2 a `MEMORY {...}` line (after a full GC under --expose-gc).
 * Logs (warn and above by default) go to stderr as JSON lines.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { isLeft } from 'fp-ts/Either';
import * as t from 'io-ts';
import { PathReporter } from 'io-ts/PathReporter';
import { etcdOptions } from '../../src/cli/etcd-options';
import { type CliCommand, choice, commandHelp, parseCommandArgs, str, UsageError } from '../../src/cli/framework';
import { type AgentHandle, startAgent } from '../../src/daemon/daemon';
import { resolveSettings } from '../../src/daemon/settings';
import { connectEtcd, splitEndpoints } from '../../src/etcd/connect';
import { SharedListWatch } from '../../src/etcd/shared-listwatch';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../src/log';
import { ROOT } from '../../src/protocol/keys';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';

export const HostEntry = t.type({ host: t.string, sppCtl: t.string });
export type HostEntry = t.TypeOf<typeof HostEntry>;
const HostsFile = t.array(HostEntry);

export const WATCH_MODES = ['shared', 'own'] as const;
export type WatchMode = (typeof WATCH_MODES)[number];

export interface MultiAgentOptions {
  readonly hosts: readonly HostEntry[];
  readonly etcdEndpoints: readonly string[];
  /** `shared`: one etcd client and one list-watch of the whole root for all hosts, demultiplexed by key; `own`: each agent its own etcd client and host-scoped list-watch, as the daemon has. */
  readonly watch: WatchMode;
  readonly logLevel: LogLevel;
  /** Seconds; the agents' liveness and lock lease TTL (default 10). */
  readonly leaseTtlSec?: number;
  /** Where log records go (default stderr). */
  readonly logStream?: NodeJS.WritableStream;
}

export interface MultiAgent {
  readonly agents: ReadonlyMap<string, AgentHandle>;
  /** Resolves once every NIC of every host is ready; rejects after `timeoutMs`. */
  ready(timeoutMs?: number): Promise<{ nics: number }>;
  /** Stops every agent, then closes the shared client. */
  stop(): Promise<void>;
}

/** `NAME=URL` of `--host`. */
export function parseHostArg(arg: string): HostEntry {
  const i = arg.indexOf('=');
  if (i <= 0 || i === arg.length - 1) throw new UsageError(`--host: expected NAME=SPP_CTL_URL, got ${JSON.stringify(arg)}`);
  return { host: arg.slice(0, i), sppCtl: arg.slice(i + 1) };
}

export function readHostsFile(path: string): HostEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--hosts-file ${path}: ${(err as Error).message}`);
  }
  const decoded = HostsFile.decode(json);
  if (isLeft(decoded)) throw new UsageError(`--hosts-file ${path}: expected [{"host": NAME, "sppCtl": URL}, ...]: ${PathReporter.report(decoded).join('; ')}`);
  return decoded.right;
}

/** Starts one agent per host in this process: on one etcd client (`shared`) or one each (`own`). */
export function startMultiAgent(opts: MultiAgentOptions): MultiAgent {
  const names = opts.hosts.map((h) => h.host);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`host ${JSON.stringify(dup)} is given twice`);
  // settings first, so a bad URL or name fails before anything connects
  const settings = opts.hosts.map((h) =>
    resolveSettings({
      host: h.host,
      etcdEndpoints: opts.etcdEndpoints.join(','),
      sppCtl: h.sppCtl,
      logLevel: opts.logLevel,
      // a last line for one agent per process (it exits the process): not for hosts sharing one
      etcdWatchdog: 'off',
      ...(opts.leaseTtlSec !== undefined ? { leaseTtl: String(opts.leaseTtlSec) } : {}),
    }),
  );
  const logger = createLogger({ level: opts.logLevel, format: 'json', ...(opts.logStream ? { stream: opts.logStream } : {}) });
  const connect = (): Etcd3 => connectEtcd({ endpoints: opts.etcdEndpoints, callTimeoutMs: 5000 });
  const clients: Etcd3[] = opts.watch === 'shared' ? [connect()] : settings.map(connect);
  const shared = opts.watch === 'shared' ? new SharedListWatch(clients[0]!, { prefixes: [ROOT], keys: [] }) : undefined;
  const agents = new Map<string, AgentHandle>();
  for (const [i, s] of settings.entries()) {
    const sppctl = new SppCtlClient(httpTransport(s.sppCtlUrl, { timeoutMs: s.sppCtlTimeoutMs }));
    agents.set(
      s.host,
      startAgent(s, {
        logger,
        sppctl,
        client: clients[shared ? 0 : i]!,
        ...(shared ? { watch: (ranges) => shared.watch(ranges) } : {}),
        onFatal: (reason) => logger.error('agent stopped itself; the other hosts keep running', { host: s.host, reason }),
      }),
    );
  }
  let stopping: Promise<void> | undefined;
  return {
    agents,
    ready: (timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const subscriptions: Array<{ unsubscribe(): void }> = [];
        const done = (err?: Error): void => {
          clearTimeout(timer);
          for (const s of subscriptions) s.unsubscribe();
          if (err) reject(err);
          else resolve({ nics: [...agents.values()].reduce((n, a) => n + a.controller.view().nics.length, 0) });
        };
        const notReady = (): string[] =>
          [...agents]
            .filter(([, a]) => {
              const nics = a.controller.view().nics;
              return nics.length === 0 || nics.some((n) => n.state !== 'ready');
            })
            .map(([host]) => host);
        const check = (): void => {
          if (notReady().length === 0) done();
        };
        const timer = setTimeout(() => done(new Error(`not every NIC ready after ${timeoutMs} ms; hosts not ready: ${notReady().join(', ')}`)), timeoutMs);
        for (const a of agents.values()) subscriptions.push(a.controller.changes.subscribe(check));
        check();
      }),
    stop: () => {
      stopping ??= (async () => {
        await Promise.all([...agents.values()].map((a) => a.stop()));
        for (const c of clients) c.close();
      })();
      return stopping;
    },
  };
}

const command: CliCommand = {
  path: ['bench', 'multi-agent'],
  summary: 'run the agents of several hosts in one process (scale tests only; the real agent serves one host)',
  description: [
    'Hosts come from --host NAME=URL (repeatable) and/or --hosts-file FILE (JSON: [{"host": NAME, "sppCtl": URL}, ...]).',
    'stdout: `READY {"hosts","nics","ms"}` once every NIC of every host is ready; `STOPPED {"hosts"}` after SIGTERM or SIGINT;',
    '`MEMORY {"gc","rssKb","heapUsedKb","heapTotalKb","externalKb"}` on SIGUSR2, after a full garbage collection when node runs with --expose-gc.',
    'Exit status: 0 after a clean stop, 1 when the hosts do not get ready or an agent fails to start, 2 on a usage error.',
  ].join('\n'),
  options: {
    'etcd-endpoints': etcdOptions['etcd-endpoints']!,
    host: { type: 'string', multiple: true, arg: 'NAME=URL', help: 'a host to serve and the URL of its spp-ctl (repeatable)' },
    'hosts-file': { type: 'string', arg: 'FILE', help: 'JSON list of {"host", "sppCtl"} to serve' },
    watch: {
      type: 'string',
      arg: 'shared|own',
      default: 'shared',
      help: 'one etcd client and list-watch shared by every host (default), or a client and host-scoped list-watch per host as the daemon has',
    },
    'lease-ttl': { type: 'string', arg: 'SEC', help: "TTL of the agents' liveness keys and locks (default 10)" },
    'ready-timeout': { type: 'string', arg: 'SEC', help: 'give up when the NICs are not all ready after SEC seconds (default 120)' },
    'log-level': { type: 'string', arg: 'LEVEL', default: 'warn', help: 'error|warn|info|debug (default warn)' },
  },
  run: async () => 0,
};

async function main(argv: string[]): Promise<number> {
  let opts: MultiAgentOptions;
  let readyTimeoutMs: number;
  try {
    const { values, positionals } = parseCommandArgs(command, argv);
    if (values.help) {
      process.stdout.write(commandHelp(command).replace('usage: spp bench multi-agent', 'usage: node dist/scripts/bench/multi-agent.js'));
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const file = str(values, 'hosts-file');
    const hosts = [...((values.host as string[] | undefined) ?? []).map(parseHostArg), ...(file ? readHostsFile(file) : [])];
    if (hosts.length === 0) throw new UsageError('no host to serve: give --host NAME=URL or --hosts-file FILE');
    const ttl = str(values, 'lease-ttl');
    const timeout = Number(str(values, 'ready-timeout') ?? '120');
    if (!Number.isFinite(timeout) || timeout <= 0)
      throw new UsageError(`--ready-timeout must be a number of seconds > 0, got ${JSON.stringify(values['ready-timeout'])}`);
    readyTimeoutMs = timeout * 1000;
    if (ttl !== undefined && !/^[0-9]+$/.test(ttl)) throw new UsageError(`--lease-ttl must be whole seconds, got ${JSON.stringify(ttl)}`);
    opts = {
      hosts,
      etcdEndpoints: splitEndpoints(str(values, 'etcd-endpoints')),
      watch: choice(values, 'watch', WATCH_MODES),
      logLevel: choice(values, 'log-level', LOG_LEVELS),
      ...(ttl !== undefined ? { leaseTtlSec: Number(ttl) } : {}),
    };
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`multi-agent: ${err.message}\nrun with --help for the options\n`);
    return 2;
  }
  const t0 = performance.now();
  let multi: MultiAgent;
  try {
    multi = startMultiAgent(opts);
  } catch (err) {
    process.stderr.write(`multi-agent: ${(err as Error).message}\n`);
    return 1;
  }
  // the bench reads memory after a full collection, so that the figures are live data and not garbage not yet collected
  const reportMemory = (): void => {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const m = process.memoryUsage();
    process.stdout.write(
      `MEMORY ${JSON.stringify({ gc: gc !== undefined, rssKb: Math.round(m.rss / 1024), heapUsedKb: Math.round(m.heapUsed / 1024), heapTotalKb: Math.round(m.heapTotal / 1024), externalKb: Math.round(m.external / 1024) })}\n`,
    );
  };
  process.on('SIGUSR2', reportMemory);
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  const ready = multi.ready(readyTimeoutMs).then(
    ({ nics }) => {
      process.stdout.write(`READY ${JSON.stringify({ hosts: opts.hosts.length, nics, ms: Math.round(performance.now() - t0) })}\n`);
      return true;
    },
    (err: Error) => {
      process.stderr.write(`multi-agent: ${err.message}\n`);
      return false;
    },
  );
  const outcome = await Promise.race([ready, signalled.then(() => true)]);
  if (outcome) await signalled;
  await multi.stop();
  process.stdout.write(`STOPPED ${JSON.stringify({ hosts: opts.hosts.length })}\n`);
  return outcome ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // grpc keeps its channel for a moment after close(); do not let that delay the exit
      setTimeout(() => process.exit(code), 200).unref();
    },
    (err: unknown) => {
      process.stderr.write(`multi-agent: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
