/**
 * What `spp replay` and `spp viz --replay` read: INPUT files (etcdctl text
 * or JSON, an agent event log, an `etcdctl snapshot save` backup) or a live
 * cluster's history (--etcd-endpoints), and with --spp-ctl the vf statuses
 * of a real spp-ctl (GETs only). One definition for both commands.
 */
import type { Etcd3 } from 'etcd3';
import type { EtcdConnectOptions } from '../../etcd/connect';
import { connectEtcd } from '../../etcd/connect';
import { keys, prefixes } from '../../protocol/keys';
import { looksBinary, looksLikeEtcdSnapshot, notASnapshot, serveBackup } from '../../replay/etcd-backup';
import { type HistoryRead, readHistory } from '../../replay/etcd-history';
import { InputError, type ReplayInput, readInput } from '../../replay/input';
import { configuredVfs, readSppCtlStatuses } from '../../replay/sppctl-observed';
import type { VfStatus } from '../../sppctl/wire';
import { etcdConnectOptions, etcdOptions } from '../etcd-options';
import { type Io, int, type OptionSpec, str, UsageError, type Values } from '../framework';
import { CLI_CALL_TIMEOUT_MS, describeEtcdFailure } from './etcd-session';

export const sourceOptions: Record<string, OptionSpec> = {
  // the etcd connection options: the only place these commands define them
  ...etcdOptions,
  'from-revision': { type: 'string', arg: 'R', help: 'etcd history: the first revision replayed (default: the oldest etcd still holds, compact revision + 1)' },
  'to-revision': { type: 'string', arg: 'R', help: 'etcd history: the last revision replayed (default: the head)' },
  'spp-ctl': {
    type: 'string',
    arg: 'URL',
    help: 'the vfs start as this spp-ctl reports them now (GET requests only): the report is what the agent would change on the host (with etcd history: from the head unless --from-revision)',
  },
};

/** The etcd client of these commands (one place, for the shared TLS/auth options of every command). */
function connect(values: Values, io: Io): { client: Etcd3; conn: EtcdConnectOptions } {
  const conn = etcdConnectOptions(values, io.env);
  return { client: connectEtcd({ ...conn, callTimeoutMs: CLI_CALL_TIMEOUT_MS }), conn };
}

export interface OpenedSources {
  readonly inputs: ReplayInput[];
  /** The vf statuses --spp-ctl read, and from where. */
  readonly observed?: { readonly statuses: Map<number, VfStatus>; readonly from: string };
  /** With follow: the live history, to follow once replayed. */
  readonly history?: HistoryRead;
  /** Closes etcd clients and removes a served backup; also run on SIGINT/SIGTERM before the process exits 130. */
  close(): Promise<void>;
}

/** Failures of etcd itself (not of the input): the message names the endpoints. */
export class SourceError extends Error {}

export async function openSources(values: Values, positionals: readonly string[], io: Io, opts: { follow?: boolean } = {}): Promise<OpenedSources> {
  const live = values['etcd-endpoints'] !== undefined;
  const from = values['from-revision'] === undefined ? undefined : int(values, 'from-revision', 1, 1);
  const to = values['to-revision'] === undefined ? undefined : int(values, 'to-revision', 1, 1);
  const sppCtl = str(values, 'spp-ctl');
  const host = str(values, 'host');
  if (live && positionals.length > 0) throw new UsageError('give either INPUT files or --etcd-endpoints, not both');
  if (!live && positionals.length === 0)
    throw new UsageError('give at least one INPUT file (an etcdctl snapshot, an agent event log, an etcdctl snapshot save backup) or --etcd-endpoints');
  if (opts.follow && !live) throw new UsageError('--follow follows a live cluster: give --etcd-endpoints');
  if (opts.follow && to !== undefined) throw new UsageError('--follow and --to-revision exclude each other');

  const cleanups: Array<() => Promise<void>> = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const c of cleanups) await c().catch(() => undefined);
  };
  // a served backup (temporary etcd and its data) must go also when the user interrupts
  const onSignal = (signal: NodeJS.Signals): void => {
    io.err(`spp: ${signal}: stopping the temporary etcd and removing its data\n`);
    void close().finally(() => process.exit(130));
  };

  try {
    const inputs: ReplayInput[] = [];
    let history: HistoryRead | undefined;
    // with --spp-ctl the plan starts from the keys as they are now, unless told otherwise
    const atHead = sppCtl !== undefined && from === undefined;
    const fromEtcd = async (
      client: Etcd3,
      source: string,
      format: 'etcd-history' | 'etcd-snapshot-file',
      conn: EtcdConnectOptions,
      what = '',
    ): Promise<void> => {
      try {
        history = await readHistory(client, {
          source,
          format,
          ...(host !== undefined ? { host } : {}),
          ...(atHead ? { atHead } : from !== undefined ? { fromRevision: from } : {}),
          ...(to !== undefined ? { toRevision: to } : {}),
          ...(opts.follow ? { follow: true } : {}),
        });
        inputs.push(history.input);
        cleanups.unshift(() => history!.close());
      } catch (err) {
        if (err instanceof InputError || err instanceof UsageError) throw err;
        throw new SourceError(`${describeEtcdFailure(err as Error, conn, false).trimEnd()}${what}`);
      }
    };
    if (live) {
      const { client, conn } = connect(values, io);
      cleanups.push(async () => client.close());
      await fromEtcd(client, `etcd ${conn.endpoints.join(',')}`, 'etcd-history', conn);
    } else {
      for (const p of positionals) {
        if (await looksLikeEtcdSnapshot(p)) {
          if (positionals.length > 1) throw new UsageError(`${p} is an etcd backup: replay it on its own (it holds its whole history)`);
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
          // pushed before it settles: an interrupt during the restore still stops and removes it
          const serving = serveBackup(p);
          cleanups.push(async () => (await serving).close());
          const served = await serving;
          const client = connectEtcd({ endpoints: [...served.endpoints], callTimeoutMs: 30_000 });
          cleanups.unshift(async () => client.close());
          await fromEtcd(client, p, 'etcd-snapshot-file', { endpoints: [...served.endpoints] }, ` (the temporary etcd serving ${p})`);
          continue;
        }
        if (await looksBinary(p)) throw notASnapshot(p);
        inputs.push(await readInput(p));
      }
      if ((from !== undefined || to !== undefined) && !inputs.some((i) => i.kind === 'history')) {
        throw new UsageError(
          '--from-revision and --to-revision apply to etcd history (--etcd-endpoints or a backup file); for snapshots and event logs use --until-revision',
        );
      }
    }
    let observed: OpenedSources['observed'];
    if (sppCtl !== undefined)
      observed = {
        statuses: await readSppCtlStatuses(sppCtl, configuredVfs(planHost(inputs, host), finalValue(inputs, planHost(inputs, host)))),
        from: `spp-ctl at ${sppCtl}`,
      };
    return { inputs, ...(observed ? { observed } : {}), ...(history && opts.follow ? { history } : {}), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The one host a plan is for: --host, or the only host with a configuration. */
function planHost(inputs: readonly ReplayInput[], host: string | undefined): string {
  if (host !== undefined) return host;
  const configured = new Set<string>();
  for (const [k] of finalKeys(inputs)) if (k.startsWith(prefixes.configuration)) configured.add(k.slice(prefixes.configuration.length));
  if (configured.size !== 1)
    throw new UsageError(`--spp-ctl plans one host: choose it with --host (configured hosts: ${[...configured].sort().join(', ') || 'none'})`);
  return [...configured][0]!;
}

/** The keys after the last input (for the host's configuration). */
function finalKeys(inputs: readonly ReplayInput[]): Map<string, string> {
  const state = new Map<string, string>();
  for (const i of inputs) {
    if (i.kind === 'snapshot') {
      state.clear();
      for (const kv of i.kvs) state.set(kv.key, kv.value);
    } else if (i.kind === 'history') {
      state.clear();
      for (const kv of i.kvs) state.set(kv.key, kv.value);
      for (const ev of i.events) ev.type === 'put' ? state.set(ev.key, ev.value) : state.delete(ev.key);
    }
  }
  return state;
}

function finalValue(inputs: readonly ReplayInput[], host: string): string | undefined {
  return finalKeys(inputs).get(keys.configuration(host));
}
