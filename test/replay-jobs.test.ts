/**
 * The replay on worker threads (`jobs`, `--jobs`): the report is the same for
 * any number of workers, the share of hosts is deterministic, progress and
 * errors cross the thread boundary, and the CLI flag is validated.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { ReplayInput } from '../src/replay';
import { InputError, parseInput, replay } from '../src/replay';
import { generateSnapshot } from '../src/replay/generate';
import { replayInWorkers, shareHosts } from '../src/replay/pool';
import type { HostJob } from '../src/replay/report';
import { planSteps } from '../src/replay/steps';
import { runCli } from './helpers/cli';
import { FIXTURES } from './helpers/fixtures';

const ONE_PLUGGED = join(FIXTURES, 'seed-one-plugged.etcdctl.txt');
const FRESH = join(FIXTURES, 'seed-fresh.etcdctl.txt');

const generated = (keys: number, seed: number): ReplayInput[] => [parseInput(generateSnapshot({ keys, seed }), `gen-${keys}.txt`)];
const fixtures = (): ReplayInput[] => [parseInput(readFileSync(FRESH, 'utf8'), 'fresh.txt'), parseInput(readFileSync(ONE_PLUGGED, 'utf8'), 'one.txt')];

test('a generated 2,000-key snapshot gives the same report, byte for byte, with 1, 2 and 3 jobs', async (t) => {
  const inputs = generated(2000, 1);
  const one = JSON.stringify(await replay(inputs, { jobs: 1 }));
  const report = JSON.parse(one) as { hosts: unknown[] };
  t.true(report.hosts.length > 20, 'enough hosts for every worker to get a share');
  t.is(JSON.stringify(await replay(inputs, { jobs: 2 })), one);
  t.is(JSON.stringify(await replay(inputs, { jobs: 3 })), one);
});

test('frames and step traces come back from the workers unchanged', async (t) => {
  const inputs = generated(400, 5);
  const one = await replay(inputs, { jobs: 1, frames: true, step: true });
  const three = await replay(inputs, { jobs: 3, frames: true, step: true });
  t.true(one.hosts.every((h) => h.frames !== undefined && h.frames.length === h.steps && h.trace !== undefined));
  t.deepEqual(three, one);
  t.is(JSON.stringify(three), JSON.stringify(one));
});

test('the fixtures (one host, two snapshots) give the same report with 1, 2 and 3 jobs', async (t) => {
  const one = await replay(fixtures(), { jobs: 1, step: true });
  t.is(one.hosts.length, 1);
  t.true(one.ok);
  for (const jobs of [2, 3]) t.is(JSON.stringify(await replay(fixtures(), { jobs, step: true })), JSON.stringify(one), `jobs ${jobs}`);
});

test('progress from the workers adds up to every step, never going back', async (t) => {
  const inputs = generated(1000, 2);
  const seen: Array<[number, number]> = [];
  const report = await replay(inputs, { jobs: 2, onProgress: (done, total) => seen.push([done, total]) });
  const total = report.hosts.reduce((n, h) => n + h.steps, 0);
  t.true(seen.length > 0);
  t.deepEqual(seen[seen.length - 1], [total, total]);
  t.true(seen.every(([done, tot], i) => tot === total && (i === 0 || done > seen[i - 1]![0])));
});

test('jobs must be a whole number of at least 1', async (t) => {
  const inputs = generated(200, 1);
  for (const jobs of [0, -1, 1.5, Number.NaN]) {
    const err = await t.throwsAsync(replay(inputs, { jobs }), { instanceOf: InputError });
    t.regex(err!.message, /jobs must be a whole number of at least 1/);
  }
});

test('shareHosts: every host exactly once, shares in host order, balanced, the same every time', (t) => {
  const plan = planSteps(generated(2000, 4));
  const work: HostJob[] = [...plan.hosts.keys()].sort().map((host) => ({ host, steps: plan.hosts.get(host)! }));
  const shares = shareHosts(work, 3);
  t.is(shares.length, 3);
  t.deepEqual(
    shares
      .flat()
      .map((j) => j.host)
      .sort(),
    work.map((j) => j.host),
  );
  for (const s of shares)
    t.deepEqual(
      s.map((j) => j.host),
      [...s.map((j) => j.host)].sort(),
    );
  const steps = shares.map((s) => s.reduce((n, j) => n + j.steps.length, 0));
  t.true(Math.max(...steps) < 1.5 * Math.min(...steps), `steps per share: ${steps.join(', ')}`);
  t.deepEqual(shareHosts(work, 3), shares);
  t.is(shareHosts(work.slice(0, 2), 5).length, 2, 'no empty shares');
});

test('an error in a worker rejects the replay with its message and kind', async (t) => {
  const plan = planSteps(fixtures().slice(0, 1));
  const steps = plan.hosts.get('spp4')!;
  const status = { 'client-id': 9, ports: [], components: [], classifier_table: [] };
  const good: HostJob = { host: 'spp4', steps };
  const bad: HostJob = { host: 'spp4', steps, recorded: { requests: [], firstStatus: new Map([[9, status]]) } };
  const err = await t.throwsAsync(replayInWorkers([[good], [bad]], {}), { instanceOf: InputError });
  t.regex(err!.message, /vf status for vf 9: host spp4's configuration has no such spp_vf/);
});

/** An agent event log of host `host` listing the seed's keys, and optionally a first vf status the agent read. */
function eventLog(host: string, status?: { secId: number; body: unknown }): ReplayInput {
  const seed = parseInput(readFileSync(ONE_PLUGGED, 'utf8'), 'one.txt');
  if (seed.kind !== 'snapshot') throw new Error('the seed fixture is a snapshot');
  const entries = seed.kvs.map((kv): [string, { value: string; modRevision: number }] => [
    kv.key.replace('/spp4', `/${host}`),
    { value: kv.value, modRevision: 1 },
  ]);
  return {
    kind: 'events',
    source: `${host}.jsonl`,
    format: 'event-log',
    entries: [
      { kind: 'start', at: '', host, version: 'test' },
      ...(status
        ? [{ kind: 'sppctl' as const, at: '', method: 'GET', path: `/v1/vfs/${status.secId}`, status: 200, response: JSON.stringify(status.body), ms: 0 }]
        : []),
      { kind: 'etcd', at: '', event: { type: 'reset', revision: 2, entries, reason: 'list' } },
    ],
  };
}

test('a failing host fails the replay with the same error whichever thread replays it', async (t) => {
  const bad = { secId: 9, body: { 'client-id': 9, ports: [], components: [], classifier_table: [] } };
  // equal weights: a-host is the first share (this thread), b-host goes to the worker; the bad one is each in turn
  for (const inputs of [
    [eventLog('a-host', bad), eventLog('b-host')],
    [eventLog('a-host'), eventLog('b-host', bad)],
  ]) {
    const messages: string[] = [];
    for (const jobs of [1, 2]) {
      const err = await t.throwsAsync(replay(inputs, { jobs }), { instanceOf: InputError });
      messages.push(err!.message);
    }
    t.regex(messages[0]!, /vf status for vf 9: host [ab]-host's configuration has no such spp_vf/);
    t.is(messages[1], messages[0]);
  }
  const good = await replay([eventLog('a-host'), eventLog('b-host')], { jobs: 2 });
  t.deepEqual(
    good.hosts.map((h) => h.host),
    ['a-host', 'b-host'],
  );
  t.is(JSON.stringify(good), JSON.stringify(await replay([eventLog('a-host'), eventLog('b-host')], { jobs: 1 })));
});

test('spp replay --jobs: validated, and the output does not depend on it', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'spp-replay-jobs-')), 'gen.txt');
  writeFileSync(file, generateSnapshot({ keys: 600, seed: 7 }));
  const one = await runCli(['replay', file, '--jobs', '1']);
  t.is(one.code, 0, one.err);
  const two = await runCli(['replay', file, '--jobs', '2']);
  t.is(two.code, 0, two.err);
  t.is(two.out, one.out);
  for (const bad of ['0', 'two', '-3', '1.5']) {
    const run = await runCli(['replay', file, `--jobs=${bad}`]);
    t.is(run.code, 2, `--jobs ${bad}`);
    t.regex(run.err, /--jobs must be an integer >= 1/);
  }
  const help = await runCli(['replay', '--help']);
  t.regex(help.out, /--jobs N/);
});
