import { availableParallelism } from 'node:os';
import { InputError, ReplayInput, readInput } from '../../replay/input';
import { ReplayOptions, replay } from '../../replay/engine';
import { formatReport } from '../../replay/format';
import { readObserved } from '../../replay/observed';
import { ProgressBar } from '../../replay/progress';
import { CliCommand, UsageError, choice, formatOption, int, str } from '../framework';

export const replayCommand: CliCommand = {
  path: ['replay'],
  summary: 'run the agent offline over etcd snapshots or an agent event log: its commands, port states and broken invariants',
  positionals: 'INPUT...',
  description: [
    'Runs the agent\'s own machines and planner (one controller per host) with no',
    'etcd and no spp-ctl: the spp-ctl side is the in-process emulator (lenient mode),',
    'the etcd side an in-memory key space that applies the agent\'s own writes.',
    '',
    'INPUT files are recognised by content:',
    '  etcdctl get --prefix /spp                 text snapshot (key line, value line)',
    '  etcdctl get --prefix /spp -w json         JSON snapshot (revisions kept)',
    '  spp agent --record FILE                   the agent\'s event log (JSON lines)',
    'Several snapshots are successive states: each later one is replayed as the puts',
    'and deletes that lead to it. By default every spp_vf starts empty (as after a',
    'host reboot); --observed gives the vf status instead (GET /v1/vfs/<id> output:',
    'one file, or a directory of <id>.json). An event log replays the status the',
    'agent read and compares the requests the replay sends with the recorded ones.',
    '',
    'The report: per host the NIC layout, each port\'s final state (desired and',
    'observed), the spp-ctl commands the agent sends in order, and every protocol',
    'invariant that does not hold in the input, with the keys involved.',
    'See docs/debugging.md.',
    '',
    'examples:',
    '  etcdctl get --prefix /spp > now.txt && spp replay now.txt',
    '  spp replay before.txt after.txt --host spp4 --step',
    '  spp replay agent.jsonl --format json',
    '',
    'exit status: 0 every invariant holds, 1 some do not, 2 unreadable input or usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'replay only this host (default: every host in the input)' },
    observed: { type: 'string', arg: 'STATUS', help: 'spp-ctl vf status JSON file, or directory of <id>.json files, the vfs start in' },
    ...formatOption,
    'until-revision': { type: 'string', arg: 'R', help: 'stop after the last step at or below etcd revision R' },
    step: { type: 'boolean', help: 'print every step and the writes, commands and machine transitions it caused' },
    'unplug-resets-vlan': { type: 'boolean', help: 'plan as an agent run with --unplug-resets-vlan (an event log whose agent ran with it says so itself)' },
    jobs: { type: 'string', arg: 'N', help: `replay on N threads, hosts shared out among them (default: one per CPU, here ${availableParallelism()}, and per 10,000 keys; 1: no worker threads); the report is the same for any N` },
  },
  async run(values, positionals, io) {
    if (positionals.length === 0) throw new UsageError('give at least one INPUT file (an etcdctl snapshot or an agent event log)');
    const format = choice(values, 'format', ['text', 'json'] as const);
    const host = str(values, 'host');
    if (host?.includes('/')) throw new UsageError(`--host ${JSON.stringify(host)} must not contain '/'`);
    const until = values['until-revision'] === undefined ? undefined : int(values, 'until-revision', 0, 0);
    const step = values['step'] === true;
    const jobs = values['jobs'] === undefined ? undefined : int(values, 'jobs', 1, 1);
    const observedPath = str(values, 'observed');
    const fail = (err: unknown): number => {
      io.err(`spp replay: ${(err as Error).message}\n`);
      return err instanceof InputError ? 2 : 1;
    };
    let inputs: ReplayInput[];
    let options: ReplayOptions;
    try {
      inputs = [];
      for (const p of positionals) inputs.push(await readInput(p));
      const observed = observedPath === undefined ? undefined : await readObserved(observedPath);
      const size = inputs.reduce((n, i) => n + (i.kind === 'snapshot' ? i.kvs.length : i.entries.length), 0);
      const bar = process.stderr.isTTY && size >= 5000 ? new ProgressBar((s) => process.stderr.write(s)) : undefined;
      options = {
        ...(host !== undefined ? { host } : {}),
        ...(observed ? { observed } : {}),
        ...(until !== undefined ? { untilRevision: until } : {}),
        step,
        ...(values['unplug-resets-vlan'] === true ? { unplugResetsVlan: true } : {}),
        ...(jobs !== undefined ? { jobs } : {}),
        ...(bar ? { onProgress: (done: number, total: number) => bar.update(done, total) } : {}),
      };
      const report = await replay(inputs, options).finally(() => bar?.done());
      io.out(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, { step }));
      return report.ok ? 0 : 1;
    } catch (err) {
      return fail(err);
    }
  },
};
