/**
 * `spp replay` and the replay library on files: the seed fixture, crafted
 * snapshots for every invariant, successive snapshots with --step and
 * --until-revision, --observed, determinism, unreadable input, and a
 * generated snapshot.
 */

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { planLayout } from '../src/plan/planner';
import type { HostConfiguration } from '../src/protocol/configuration';
import { hostLayout } from '../src/protocol/layout';
import type { ReplayReport } from '../src/replay';
import { checkInvariants, parseInput, replay } from '../src/replay';
import { generateSnapshot } from '../src/replay/generate';
import { inProcessTransport, SppCtlClient } from '../src/sppctl/client';
import { describeCommand } from '../src/sppctl/commands';
import { createEmulator } from '../src/sppctl/emulator';
import { runCli } from './helpers/cli';
import { FIXTURES } from './helpers/fixtures';

const ONE_PLUGGED = join(FIXTURES, 'seed-one-plugged.etcdctl.txt');
const FRESH = join(FIXTURES, 'seed-fresh.etcdctl.txt');
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const MAC = 'fa:16:3e:a0:da:db';
const SEED_CONFIG =
  '[{"num_vhost": 2, "core_mask": "0xfe", "pci_address": "00:04.0", "physical_network": "phys1"}, {"num_vhost": 2, "core_mask": "0xfc02", "pci_address": "00:05.0", "physical_network": "phys2"}]';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'spp-replay-'));

/** The commands that build the seed layout on an empty vf, per vf. */
function seedLayoutCommands(): Map<number, string[]> {
  const config = JSON.parse(SEED_CONFIG) as HostConfiguration;
  const empty = (secId: number) => ({ 'client-id': secId, ports: [], components: [], classifier_table: [] });
  return new Map(hostLayout(config).map((nic) => [nic.secId, planLayout(nic, empty(nic.secId)).map(describeCommand)]));
}

/** The snapshot text of a key/value list, as etcdctl prints it. */
function snapshot(kvs: Record<string, string>): string {
  return Object.entries(kvs)
    .map(([k, v]) => `${k}\n${v}\n`)
    .join('');
}

/** The seed host with vhost keys, plus `extra` (undefined deletes a key). */
function seedWith(extra: Record<string, string | undefined>): string {
  const kvs: Record<string, string | undefined> = {
    '/spp/openstack/configuration/spp4': SEED_CONFIG,
    '/spp/openstack/vhost/spp4/phys1/0': 'None',
    '/spp/openstack/vhost/spp4/phys1/1': 'None',
    '/spp/openstack/vhost/spp4/phys2/2': 'None',
    '/spp/openstack/vhost/spp4/phys2/3': 'None',
    ...extra,
  };
  return snapshot(Object.fromEntries(Object.entries(kvs).filter((e): e is [string, string] => e[1] !== undefined)));
}

function checkSeedOnePlugged(t: import('ava').ExecutionContext, report: ReplayReport): void {
  t.true(report.ok);
  const host = report.hosts.find((h) => h.host === 'spp4')!;
  const port = host.ports.find((p) => p.portId === PORT)!;
  t.is(port.state, 'plugged.steady');
  t.is(port.vhostId, 0);
  t.is(port.observed, `classifier mac ${MAC}`);
  const layout = seedLayoutCommands();
  for (const [secId, expected] of layout) {
    t.deepEqual(
      host.commands.filter((c) => c.startsWith(`vf ${secId}: `) && !c.includes('classifier_table')),
      expected,
      `vf ${secId} gets exactly the seed layout, in layout order`,
    );
  }
  t.deepEqual(
    host.commands.filter((c) => c.includes('classifier_table')),
    [`vf 1: classifier_table add mac ${MAC} ring:0`],
  );
  t.is(host.commands.length, [...layout.values()].reduce((n, l) => n + l.length, 0) + 1);
  t.is(host.commands[host.commands.length - 1], `vf 1: classifier_table add mac ${MAC} ring:0`);
}

test('seed-one-plugged: exit 0, the port ends plugged on vhost 0, the plan is the seed layout plus its MAC', async (t) => {
  const run = await runCli(['replay', ONE_PLUGGED, '--format', 'json']);
  t.is(run.code, 0, run.err);
  checkSeedOnePlugged(t, JSON.parse(run.out) as ReplayReport);
  const text = await runCli(['replay', ONE_PLUGGED]);
  t.is(text.code, 0);
  t.regex(text.out, /6160c9da-b2d5-4236-8413-7d646e5c0ae2 {2}plugged\.steady {2}vhost 0/);
  t.regex(text.out, /vf 1 {2}00:04\.0 {2}phys1 {2}vhosts 0,1 {2}ready/);
  t.regex(text.out, /lenient mode/);
  t.regex(text.out, /all invariants hold/);
});

interface InvariantCase {
  readonly name: string;
  readonly code: string;
  readonly input: string;
  readonly keys: readonly string[];
}

const B = '/spp/openstack/bind_port/spp4/';
const A = '/spp/openstack/action/spp4/';
const S = '/spp/openstack/port_status/spp4/';
const V = '/spp/openstack/vhost/spp4/';
const C = '/spp/openstack/configuration/spp4';
const P1 = 'a0000000-0000-0000-0000-000000000001';
const P2 = 'a0000000-0000-0000-0000-000000000002';
const bind = (vhost: number, mac: string, vlan?: number): string =>
  `{"vhost_id": ${vhost}, "mac_address": "${mac}"${vlan !== undefined ? `, "vlan_id": ${vlan}` : ''}}`;
const plugged = (port: string, phys: string, vhost: number, mac: string): Record<string, string> => ({
  [`${V}${phys}/${vhost}`]: port,
  [`${B}${port}`]: bind(vhost, mac),
  [`${A}${port}`]: 'plug',
  [`${S}${port}`]: 'up',
});

const cases: InvariantCase[] = [
  {
    name: 'a vhost claimed by a port with no bind_port',
    code: 'claim-without-bind-port',
    input: seedWith({ [`${V}phys1/1`]: P1 }),
    keys: [`${V}phys1/1`, `${B}${P1}`],
  },
  {
    name: "bind_port's vhost_id not owned by that port in the vhost keys",
    code: 'bind-port-not-owner',
    input: seedWith({ [`${B}${P1}`]: bind(1, 'fa:16:3e:00:00:01'), [`${A}${P1}`]: 'plug' }),
    keys: [`${B}${P1}`, `${V}phys1/1`],
  },
  {
    name: 'one vhost claimed by two ports',
    code: 'vhost-claimed-twice',
    input: seedWith({ ...plugged(P1, 'phys1', 0, 'fa:16:3e:00:00:01'), [`${B}${P2}`]: bind(0, 'fa:16:3e:00:00:02'), [`${A}${P2}`]: 'plug' }),
    keys: [`${V}phys1/0`, `${B}${P1}`, `${B}${P2}`],
  },
  {
    name: 'an action with no bind_port',
    code: 'action-without-bind-port',
    input: seedWith({ [`${A}${P1}`]: 'plug' }),
    keys: [`${A}${P1}`, `${B}${P1}`],
  },
  {
    name: 'port_status up without action plug',
    code: 'up-without-plug',
    input: seedWith({ ...plugged(P1, 'phys1', 0, 'fa:16:3e:00:00:01'), [`${A}${P1}`]: 'unplug' }),
    keys: [`${S}${P1}`, `${A}${P1}`],
  },
  {
    name: 'a vhost id the configuration does not have',
    code: 'vhost-not-in-configuration',
    input: seedWith({ [`${V}phys2/7`]: 'None' }),
    keys: [`${V}phys2/7`, C],
  },
  {
    name: 'a physical network the configuration does not have',
    code: 'physical-network-not-in-configuration',
    input: seedWith({ [`${V}phys9/1`]: 'None' }),
    keys: [`${V}phys9/1`, C],
  },
  {
    name: 'the same MAC on two vhosts of one NIC',
    code: 'duplicate-mac',
    input: seedWith({ ...plugged(P1, 'phys1', 0, 'fa:16:3e:00:00:01'), ...plugged(P2, 'phys1', 1, 'FA:16:3E:00:00:01') }),
    keys: [`${B}${P1}`, `${B}${P2}`],
  },
  {
    name: 'an invalid configuration',
    code: 'invalid-configuration',
    input: seedWith({ [C]: SEED_CONFIG.replace('"0xfe"', '"0x1e"') }),
    keys: [C],
  },
  {
    name: 'a value that does not decode',
    code: 'invalid-value',
    input: seedWith({ ...plugged(P1, 'phys1', 0, 'fa:16:3e:00:00:01'), [`${B}${P1}`]: '{"vhost_id": 0}' }),
    keys: [`${B}${P1}`],
  },
  {
    name: 'a configured vhost without its vhost key',
    code: 'vhost-key-missing',
    input: seedWith({ [`${V}phys2/3`]: undefined }),
    keys: [`${V}phys2/3`, C],
  },
];

for (const c of cases) {
  test(`invariant: ${c.name} is reported with its keys`, async (t) => {
    const report = await replay([parseInput(c.input, 'crafted.txt')]);
    t.false(report.ok);
    const found = report.hosts[0]!.invariants.filter((v) => v.code === c.code);
    t.is(found.length, 1, JSON.stringify(report.hosts[0]!.invariants, null, 1));
    t.deepEqual([...found[0]!.keys].sort(), [...c.keys].sort());
    for (const key of c.keys) t.true(found[0]!.message.includes(key), `the message names ${key}: ${found[0]!.message}`);
  });
}

test('invariants make the CLI exit 1 and print the code and the keys', async (t) => {
  const dir = tmp();
  const file = join(dir, 'bad.txt');
  writeFileSync(file, cases[0]!.input);
  const run = await runCli(['replay', file]);
  t.is(run.code, 1);
  t.regex(run.out, /claim-without-bind-port: \/spp\/openstack\/vhost\/spp4\/phys1\/1 = a0000000/);
  t.regex(run.out, /keys: \/spp\/openstack\/vhost\/spp4\/phys1\/1 \/spp\/openstack\/bind_port\/spp4\/a0000000-0000-0000-0000-000000000001/);
  t.regex(run.out, /1 invariant violation\n$/);
});

test('the agent sees its own writes: an unplugging port is cleaned up and its vhost freed', async (t) => {
  const input = seedWith({ ...plugged(P1, 'phys1', 1, 'fa:16:3e:00:00:01'), [`${S}${P1}`]: undefined, [`${A}${P1}`]: 'unplug' });
  const report = await replay([parseInput(input, 'unplugging.txt')], { step: true });
  const host = report.hosts[0]!;
  t.deepEqual(
    host.ports.map((p) => [p.portId, p.state]),
    [[P1, 'removed']],
  );
  const trace = host.trace!.flatMap((s) => s.trace);
  t.true(trace.includes(`agent: unplug cleanup of ${P1}: put ${V}phys1/1 = None, delete ${B}${P1}, delete ${A}${P1} (revision 2)`), trace.join('\n'));
  t.true(report.ok);
});

test('two snapshots: --step prints each step with its transitions, --until-revision stops there', async (t) => {
  const full = await runCli(['replay', FRESH, ONE_PLUGGED, '--step']);
  t.is(full.code, 0, full.err);
  t.regex(full.out, /\[1\] list of 5 keys at revision 1/);
  t.regex(full.out, /\[\d+\] put \/spp\/openstack\/action\/spp4\/6160c9da-b2d5-4236-8413-7d646e5c0ae2 = plug\n/);
  t.regex(full.out, /port 6160c9da-b2d5-4236-8413-7d646e5c0ae2: plugging -> plugged\.steady/);
  t.regex(full.out, /nic vf 1: ready/);
  t.regex(full.out, /agent: put \/spp\/openstack\/port_status\/spp4\/6160c9da-b2d5-4236-8413-7d646e5c0ae2 = up \(revision \d+\)/);
  t.regex(full.out, /6160c9da-b2d5-4236-8413-7d646e5c0ae2 {2}plugged\.steady {2}vhost 0/);

  const json = JSON.parse((await runCli(['replay', FRESH, ONE_PLUGGED, '--format', 'json', '--step'])).out) as ReplayReport;
  const steps = json.hosts[0]!.trace!;
  t.deepEqual(
    steps.map((s) => s.revision),
    steps.map((_, i) => i + 1),
    'one synthetic revision per step',
  );
  const first = await runCli(['replay', FRESH, ONE_PLUGGED, '--until-revision', '1', '--format', 'json']);
  const early = JSON.parse(first.out) as ReplayReport;
  t.is(early.hosts[0]!.steps, 1);
  t.deepEqual(early.hosts[0]!.ports, []);
  t.false(early.hosts[0]!.commands.some((c) => c.includes('classifier_table')));
  const before = await runCli(['replay', FRESH, ONE_PLUGGED, '--until-revision', String(steps.length - 1), '--format', 'json']);
  t.is((JSON.parse(before.out) as ReplayReport).hosts[0]!.steps, steps.length - 1);
});

test('the same input gives byte-identical output every run', async (t) => {
  const dir = tmp();
  const gen = join(dir, 'gen.txt');
  writeFileSync(gen, generateSnapshot({ keys: 600, seed: 7 }));
  for (const argv of [
    ['replay', FRESH, ONE_PLUGGED, '--step'],
    ['replay', gen, '--format', 'json', '--step'],
  ]) {
    const a = await runCli(argv);
    const b = await runCli(argv);
    t.is(a.code, 0);
    t.true(a.out.length > 1000);
    t.is(a.out, b.out);
  }
});

test('unreadable input exits 2 naming the file and line', async (t) => {
  const dir = tmp();
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, '/spp/openstack/configuration/spp4\n[]\nnot-a-key\nvalue\n');
  const run = await runCli(['replay', bad]);
  t.is(run.code, 2);
  t.regex(run.err, new RegExp(`${bad}:3: expected a key line`));
  const log = join(dir, 'agent.jsonl');
  writeFileSync(log, '{"kind":"start","at":"x","host":"spp4","version":"0"}\n{"kind":"etcd","at":"x","event":{"type":"put","key":"/k"}}\n');
  const logRun = await runCli(['replay', log]);
  t.is(logRun.code, 2);
  t.regex(logRun.err, new RegExp(`${log}:2: field event.value: expected a string`));
  const missing = await runCli(['replay', join(dir, 'nope.txt')]);
  t.is(missing.code, 2);
  t.regex(missing.err, /nope\.txt: cannot read/);
  const truncated = join(dir, 'truncated.txt');
  writeFileSync(truncated, readFileSync(ONE_PLUGGED, 'utf8').split('\n').slice(0, 5).join('\n'));
  const tr = await runCli(['replay', truncated]);
  t.is(tr.code, 2);
  t.regex(tr.err, /truncated\.txt:5: key \/spp\/openstack\/configuration\/spp4 has no value line/);
  const json = join(dir, 'cut.json');
  writeFileSync(json, '{"header":{"cluster_id":1,"revision":9},"kvs":[{"key":"L3Nw');
  const cut = await runCli(['replay', json]);
  t.is(cut.code, 2);
  t.regex(cut.err, /cut\.json:1: not valid etcdctl -w json output \(truncated\?\)/);
  t.is((await runCli(['replay'])).code, 2);
  t.is((await runCli(['replay', ONE_PLUGGED, '--host', 'nohost'])).code, 2);
});

test('--observed: a vf that already runs the layout and the MAC gets no commands', async (t) => {
  const config = JSON.parse(SEED_CONFIG) as HostConfiguration;
  const emulator = createEmulator({ mappings: config, lenient: true });
  const client = new SppCtlClient(inProcessTransport(emulator));
  const nic = hostLayout(config)[0]!;
  for (const cmd of planLayout(nic, await client.vfStatus(1))) await client.send(cmd);
  await client.send({ op: 'classifier_add', secId: 1, mac: MAC, port: 'ring:0' });
  const dir = join(tmp(), 'status');
  mkdirSync(dir);
  writeFileSync(join(dir, '1.json'), JSON.stringify(await client.vfStatus(1)));
  const run = await runCli(['replay', ONE_PLUGGED, '--observed', dir, '--format', 'json']);
  t.is(run.code, 0, run.err);
  const host = (JSON.parse(run.out) as ReplayReport).hosts[0]!;
  t.deepEqual(host.commands, seedLayoutCommands().get(2), 'only vf 2, which started empty, is built');
  t.is(host.ports[0]!.state, 'plugged.steady');

  writeFileSync(join(dir, '2.json'), JSON.stringify({ 'client-id': 2, ports: [], components: [{ core: 'x' }], classifier_table: [] }));
  const bad = await runCli(['replay', ONE_PLUGGED, '--observed', dir]);
  t.is(bad.code, 2);
  t.regex(bad.err, /2\.json: not a vf status: components\[0\]/);
});

test('a generated snapshot of 2,000 keys replays with exit 0', async (t) => {
  const file = join(tmp(), 'gen.txt');
  writeFileSync(file, generateSnapshot({ keys: 2000, seed: 1 }));
  const lines = readFileSync(file, 'utf8').split('\n').length - 1;
  t.true(lines / 2 <= 2000 && lines / 2 > 1900, `${lines / 2} keys`);
  const run = await runCli(['replay', file, '--format', 'json']);
  t.is(run.code, 0, run.out.slice(-2000));
  const report = JSON.parse(run.out) as ReplayReport;
  t.true(report.hosts.length > 20);
  const states = new Set(report.hosts.flatMap((h) => h.ports.map((p) => p.state)));
  t.deepEqual([...states].sort(), ['plugged.steady', 'removed']);
});

test('frames: one controller view per step for the visualizer; concurrency does not change the report', async (t) => {
  const inputs = [parseInput(readFileSync(FRESH, 'utf8'), 'fresh.txt'), parseInput(readFileSync(ONE_PLUGGED, 'utf8'), 'one.txt')];
  const report = await replay(inputs, { frames: true });
  const host = report.hosts[0]!;
  const frames = host.frames!;
  t.is(frames.length, host.steps);
  t.deepEqual(
    frames.map((f) => f.label.split(' ')[0]),
    ['list', ...frames.slice(1).map(() => 'put')],
  );
  t.deepEqual(frames[0]!.view.ports, []);
  const last = frames[frames.length - 1]!.view;
  t.deepEqual(
    last.ports.map((p) => [p.portId, p.state]),
    [[PORT, 'plugged.steady']],
  );
  t.true(
    frames.every((f, i) => i === 0 || f.revision > frames[i - 1]!.revision),
    'revisions increase',
  );
  t.is(host.frames === undefined, false);
  t.is((await replay(inputs)).hosts[0]!.frames, undefined, 'frames only when asked for');

  const gen = [parseInput(generateSnapshot({ keys: 800, seed: 3 }), 'gen.txt')];
  t.deepEqual(await replay(gen, { concurrency: 1 }), await replay(gen, { concurrency: 16 }));
});

test('checkInvariants is a pure function of a key/value map: the seed holds, stray keys are named', (t) => {
  const seed = Object.fromEntries(
    readFileSync(ONE_PLUGGED, 'utf8')
      .trimEnd()
      .split('\n')
      .flatMap((line, i, all) => (i % 2 === 0 ? [[line, all[i + 1]!]] : [])),
  ) as Record<string, string>;
  t.deepEqual(checkInvariants(seed), []);
  const broken = { ...seed, '/spp/openstack/vhost/spp4/phys1/x': 'None', '/spp/other': 'x' };
  const found = checkInvariants(broken);
  t.deepEqual(
    found.map((v) => [v.host, v.code, v.keys]),
    [
      [undefined, 'stray-key', ['/spp/other']],
      ['spp4', 'stray-key', ['/spp/openstack/vhost/spp4/phys1/x']],
    ],
  );
  t.deepEqual(
    checkInvariants(broken, 'spp4').map((v) => v.code),
    ['stray-key'],
  );
});

test('a port whose keys give the agent nothing to do is listed with the reason', async (t) => {
  const report = await replay([parseInput(seedWith({ [`${A}${P1}`]: 'plug' }), 'waiting.txt')]);
  t.deepEqual(report.hosts[0]!.ports, [{ portId: P1, state: 'no machine', desired: 'idle (action plug without bind_port, waiting for bind_port)' }]);
});

test('a VLAN port plugged, then unplugged: the unplug removes the entry alone, or resets the tags too as an agent run with --unplug-resets-vlan', async (t) => {
  const port = { [`${V}phys2/2`]: P1, [`${B}${P1}`]: bind(2, 'fa:16:3e:00:00:01', 100) };
  const inputs = (): ReturnType<typeof parseInput>[] => [
    parseInput(seedWith({ ...port, [`${A}${P1}`]: 'plug' }), 'plugged.txt'),
    parseInput(seedWith({ ...port, [`${A}${P1}`]: 'unplug' }), 'unplugging.txt'),
  ];
  // the vfs start empty: the NIC build attaches the port's vhost with its tags at once, then the entry; what follows is the unplug
  const ADD = 'vf 2: classifier_table add vlan 100 fa:16:3e:00:00:01 ring:4';
  const after = (r: ReplayReport): string[] => {
    const all = r.hosts[0]!.commands;
    t.true(all.includes('vf 2: port add vhost:2 rx forward_2_rx add_vlantag 100 0') && all.includes('vf 2: port add ring:4 tx classifier del_vlantag'));
    return all.slice(all.indexOf(ADD));
  };
  const kept = await replay(inputs());
  t.deepEqual(after(kept), [ADD, 'vf 2: classifier_table del vlan 100 fa:16:3e:00:00:01 ring:4']);
  t.true(kept.ok, JSON.stringify(kept.hosts[0]!.invariants));
  const reset = await replay(inputs(), { unplugResetsVlan: true });
  t.deepEqual(after(reset), [
    ADD,
    'vf 2: port del vhost:2 rx forward_2_rx',
    'vf 2: port add vhost:2 rx forward_2_rx',
    'vf 2: port del ring:4 tx classifier',
    'vf 2: port add ring:4 tx classifier',
    'vf 2: classifier_table del vlan 100 fa:16:3e:00:00:01 ring:4',
  ]);
  t.true(reset.ok, JSON.stringify(reset.hosts[0]!.invariants));
  // the CLI flag (WorkerReplayOptions carries it to worker threads too)
  const dir = tmp();
  const files = ['plugged.txt', 'unplugging.txt'].map((name, i) => {
    const f = join(dir, name);
    writeFileSync(f, i === 0 ? seedWith({ ...port, [`${A}${P1}`]: 'plug' }) : seedWith({ ...port, [`${A}${P1}`]: 'unplug' }));
    return f;
  });
  for (const jobs of ['1', '2']) {
    const cli = await runCli(['replay', ...files, '--unplug-resets-vlan', '--format', 'json', '--jobs', jobs]);
    t.is(cli.code, 0, cli.err);
    t.deepEqual(after(JSON.parse(cli.out) as ReplayReport), after(reset), `--jobs ${jobs}`);
  }

  // an event log replays in the mode its agent's start entry names
  const log = (resetVlan?: boolean): string =>
    [
      { kind: 'start', at: '2026-01-01T00:00:00Z', host: 'spp4', version: 'test', ...(resetVlan !== undefined ? { unplugResetsVlan: resetVlan } : {}) },
      {
        kind: 'etcd',
        at: '2026-01-01T00:00:00Z',
        event: {
          type: 'reset',
          revision: 5,
          entries: Object.entries({
            [C]: SEED_CONFIG,
            [`${V}phys1/0`]: 'None',
            [`${V}phys1/1`]: 'None',
            [`${V}phys2/3`]: 'None',
            ...port,
            [`${A}${P1}`]: 'plug',
          }).map(([k, v]) => [k, { value: v, modRevision: 5 }]),
        },
      },
      { kind: 'etcd', at: '2026-01-01T00:00:01Z', event: { type: 'put', key: `${A}${P1}`, value: 'unplug', revision: 6 } },
    ]
      .map((e) => JSON.stringify(e))
      .join('\n');
  const fromLog = async (resetVlan?: boolean): Promise<string[]> => after(await replay([parseInput(log(resetVlan), 'agent.jsonl')]));
  t.deepEqual(await fromLog(true), after(reset));
  t.deepEqual(await fromLog(false), after(kept));
  t.deepEqual(await fromLog(), after(kept), 'a log of an agent before the option: the default');
});
