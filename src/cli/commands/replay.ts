import { availableParallelism } from 'node:os';
import { replay } from '../../replay/engine';
import type { HistoryRead } from '../../replay/etcd-history';
import { FollowReplay } from '../../replay/follow';
import { formatFollowedStep, formatReport } from '../../replay/format';
import { InputError, inputSize } from '../../replay/input';
import { ProgressBar } from '../../replay/progress';
import type { ReplayOptions } from '../../replay/report';
import { readObserved } from '../../replay/vf-status-input';
import { type CliCommand, checkHost, choice, formatOption, type Io, int, str, UsageError } from '../framework';
import { untilSignal } from '../signals';
import { type OpenedSources, openSources, sourceOptions } from './replay-sources';

export const replayCommand: CliCommand = {
  path: ['replay'],
  summary:
    "run the agent offline over etcd's history (live or a backup), etcd snapshots or an agent event log: its commands, port states and broken invariants",
  positionals: '[INPUT...]',
  description: [
    "Runs the agent's own machines and planner (one controller per host) and sends",
    'nothing anywhere: the spp-ctl side is the in-process emulator (lenient mode),',
    "the etcd side an in-memory key space that applies the agent's own writes.",
    '',
    'What it reads:',
    "  --etcd-endpoints E                        a live cluster's history: the keys at",
    '                                            --from-revision - 1, then every revision',
    '                                            up to --to-revision or the head',
    '  --etcd-endpoints E --follow               the same, then each new revision as it',
    '                                            happens (a shadow agent); Ctrl-C ends it',
    'or INPUT files, recognised by content:',
    '  etcdctl snapshot save backup.db           an etcd backup: restored into a temporary',
    '                                            etcd on loopback, its history replayed',
    '  etcdctl get --prefix /spp                 text snapshot (key line, value line)',
    '  etcdctl get --prefix /spp -w json         JSON snapshot (revisions kept)',
    "  spp agent --record FILE                   the agent's event log (JSON lines)",
    'Several snapshots are successive states: each later one is replayed as the puts',
    'and deletes that lead to it. etcd history is replayed one step per revision.',
    '--from-revision defaults to the oldest revision etcd still holds (its compact',
    'revision + 1); a compacted one is refused with the compact revision named.',
    '',
    'By default every spp_vf starts empty (as after a host reboot); --observed gives',
    'the vf status instead (GET /v1/vfs/<id> output: one file, or a directory of',
    '<id>.json); --spp-ctl URL reads it from a real spp-ctl with GET requests only,',
    'and with etcd history starts from the keys as they are now: the commands are',
    'then the plan, what the agent would change on that host now. An event log',
    'replays the status the agent read and compares the requests the replay sends',
    'with the recorded ones.',
    '',
    "The report: per host the NIC layout, each port's final state (desired and",
    'observed), the spp-ctl commands the agent sends in order, and every protocol',
    'invariant that does not hold in the input, with the keys involved.',
    'See docs/debugging.md.',
    '',
    'examples:',
    '  spp replay --etcd-endpoints 127.0.0.1:2379 --host spp4 --step',
    '  spp replay --etcd-endpoints 127.0.0.1:2379 --host spp4 --follow',
    '  spp replay --etcd-endpoints 127.0.0.1:2379 --host spp4 --spp-ctl http://127.0.0.1:7777',
    '  spp replay backup.db --host spp4',
    '  etcdctl get --prefix /spp > now.txt && spp replay now.txt',
    '  spp replay before.txt after.txt --host spp4 --step',
    '  spp replay agent.jsonl --format json',
    '',
    'exit status: 0 every invariant holds, 1 some do not (or etcd failed), 2 unreadable input or usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'replay only this host (default: every host in the input)' },
    observed: { type: 'string', arg: 'STATUS', help: 'spp-ctl vf status JSON file, or directory of <id>.json files, the vfs start in' },
    ...formatOption,
    'until-revision': { type: 'string', arg: 'R', help: 'stop after the last step at or below etcd revision R' },
    step: { type: 'boolean', help: 'print every step and the writes, commands and machine transitions it caused' },
    'unplug-resets-vlan': { type: 'boolean', help: 'plan as an agent run with --unplug-resets-vlan (an event log whose agent ran with it says so itself)' },
    jobs: {
      type: 'string',
      arg: 'N',
      help: `replay on N threads, hosts shared out among them (default: one per CPU, here ${availableParallelism()}, and per 10,000 keys; 1: no worker threads); the report is the same for any N`,
    },
    ...sourceOptions,
    follow: {
      type: 'boolean',
      help: 'with --etcd-endpoints: after the history, keep following etcd and print each new step as it happens (a shadow agent: nothing is sent); Ctrl-C ends it',
    },
  },
  async run(values, positionals, io) {
    const format = choice(values, 'format', ['text', 'json'] as const);
    const host = checkHost(str(values, 'host'));
    const until = values['until-revision'] === undefined ? undefined : int(values, 'until-revision', 0, 0);
    const step = values.step === true;
    const follow = values.follow === true;
    const jobs = values.jobs === undefined ? undefined : int(values, 'jobs', 1, 1);
    const observedPath = str(values, 'observed');
    if (observedPath !== undefined && values['spp-ctl'] !== undefined)
      throw new UsageError('--observed and --spp-ctl both say what the vfs start in: give one');
    const fail = (err: unknown): number => {
      io.err(`spp replay: ${(err as Error).message}\n`);
      return err instanceof InputError ? 2 : 1;
    };
    let sources: OpenedSources;
    try {
      sources = await openSources(values, positionals, io, { follow });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      return fail(err);
    }
    try {
      const inputs = sources.inputs;
      const observed = sources.observed?.statuses ?? (observedPath === undefined ? undefined : await readObserved(observedPath));
      const size = inputs.reduce((n, i) => n + inputSize(i), 0);
      const bar = process.stderr.isTTY && size >= 5000 ? new ProgressBar((s) => process.stderr.write(s)) : undefined;
      const options: ReplayOptions = {
        ...(host !== undefined ? { host } : {}),
        ...(observed ? { observed } : {}),
        ...(sources.observed ? { observedFrom: sources.observed.from } : {}),
        ...(until !== undefined ? { untilRevision: until } : {}),
        step,
        ...(values['unplug-resets-vlan'] === true ? { unplugResetsVlan: true } : {}),
        ...(jobs !== undefined ? { jobs } : {}),
        ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
      };
      if (sources.history) return await followHistory(sources.history, options, format, io);
      const report = await replay(inputs, options).finally(() => bar?.done());
      io.out(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, { step }));
      return report.ok ? 0 : 1;
    } catch (err) {
      return fail(err);
    } finally {
      await sources.close();
    }
  },
};

/**
 * The shadow agent: the history's report, then each new step as etcd makes
 * it (text: the step and what it caused; json: one JSON line per step),
 * until Ctrl-C or a failed watch; then the final report.
 */
async function followHistory(history: HistoryRead, options: ReplayOptions, format: 'text' | 'json', io: Io): Promise<number> {
  const f = await FollowReplay.start(history.input, options);
  try {
    const first = f.report();
    io.out(format === 'json' ? `${JSON.stringify(first)}\n` : formatReport(first, { step: options.step === true }));
    const last = Math.max(history.head, ...history.input.events.map((e) => e.revision));
    if (format === 'text')
      io.out(`following ${history.input.source} after revision ${last} (a shadow agent: nothing is sent to spp-ctl or etcd); Ctrl-C ends\n`);
    let failed: Error | undefined;
    const ended = new Promise<void>((resolve) => {
      void untilSignal().then(() => resolve());
      history.follow(
        (events) =>
          void f.feed(events).then(
            (steps) => {
              for (const s of steps) io.out(format === 'json' ? `${JSON.stringify(s)}\n` : formatFollowedStep(s));
            },
            (err: Error) => {
              failed = err;
              resolve();
            },
          ),
        (err) => {
          failed = err;
          resolve();
        },
      );
    });
    await ended;
    await history.close();
    const report = f.report();
    if (failed) io.err(`spp replay: following stopped: ${failed.message}\n`);
    io.out(format === 'json' ? `${JSON.stringify(report)}\n` : `\nstopped following; the hosts now:\n${formatReport(report)}`);
    return failed ? 1 : report.ok ? 0 : 1;
  } finally {
    await f.close();
  }
}
