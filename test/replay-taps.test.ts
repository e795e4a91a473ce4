/**
 * The replay of a history with tap flows (TaaS), with a real etcd: a real
 * agent creates and deletes a BOTH flow against the emulator's spp_vf and
 * spp_mirror; etcd's history of that session replays through the tap
 * machines (the replay's emulator gets the spp_mirror the configuration's
 * `mirror` list implies), showing the flow's states and the commands that
 * the agent sent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { createTap, deleteTap } from '../src/driver';
import { connectEtcd } from '../src/etcd/connect';
import type { ReplayReport } from '../src/replay';
import { replay } from '../src/replay';
import { readHistory } from '../src/replay/etcd-history';
import { describeCommand, describeMirrorCommand } from '../src/sppctl/commands';
import { runCli } from './helpers/cli';
import { dump } from './helpers/etcd';
import { requests } from './helpers/system';
import { startTapSystem, tapPorts } from './helpers/tap-system';

const PORTS = tapPorts('a0000000');
const { service: SERVICE, source: SOURCE } = PORTS;
const TF = 'tf-replayed';

async function replayEtcd(t: ExecutionContext, endpoints: readonly string[], host: string): Promise<ReplayReport> {
  const client = connectEtcd({ endpoints: [...endpoints] });
  t.teardown(() => client.close());
  const history = await readHistory(client, { source: 'live', host });
  return replay([history.input], { host, requests: true, step: true });
}

test('a history where a BOTH tap flow is created and deleted replays through the tap machines: its states, the commands the agent sent', async (t) => {
  const s = await startTapSystem(t, PORTS, {});
  s.sim.emulator.clearLog();
  const tap = { host: s.host, tapFlowId: TF, wait: true, timeoutMs: 15_000 };
  t.is((await createTap(s.client, { ...tap, servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'BOTH' })).outcome, 'up');
  t.is((await deleteTap(s.client, tap)).outcome, 'deleted');
  await s.agent!.controller.idle();
  const live = requests(s);
  t.is(live.length, 24, 'the agent sent 12 requests each way');
  await s.stopAgent();

  const report = await replayEtcd(t, s.etcd.endpoints, s.host);
  const host = report.hosts[0]!;
  const flow = host.taps?.find((f) => f.flowId === TF);
  t.truthy(flow, `the flow is in the report: ${JSON.stringify(host.taps)}`);
  t.is(flow!.state, 'removed');
  for (const state of ['plugging', 'up', 'unplugging', 'removed']) t.true(flow!.states.includes(state), `${state} in ${flow!.states.join(' -> ')}`);
  t.true(flow!.states.indexOf('up') < flow!.states.indexOf('unplugging'));
  // the same 24 requests as the live agent, in spp-ctl's text form
  const text = (r: { path: string; body?: unknown }): string => {
    const b = r.body as { action: string; port: string; dir: string };
    const m = /^\/v1\/(vfs|mirrors)\/(\d+)\/components\/([^/]+)\/ports$/.exec(r.path)!;
    const cmd = { op: `${m[1] === 'mirrors' ? 'mirror' : 'port'}_${b.action}`, secId: Number(m[2]), component: m[3]!, port: b.port, dir: b.dir };
    return m[1] === 'mirrors' ? describeMirrorCommand(cmd as never) : describeCommand(cmd as never);
  };
  t.deepEqual([...flow!.commands].sort(), live.map(text).sort());
  t.is(flow!.commands.length, 24, 'none twice');
  // the host's spp-ctl command list has the mirror's commands too, in the order sent, not only the vfs'
  const mirrorPorts = host.commands.filter((c) => /^mirror 3: port (add|del) /.test(c));
  t.deepEqual([...mirrorPorts].sort(), flow!.commands.filter((c) => c.startsWith('mirror 3: ')).sort());
  t.is(mirrorPorts.length, 12, host.commands.join('\n'));
  t.true(
    host.commands.some((c) => /^mirror 3: component start mirror_0 \d+ mirror$/.test(c)),
    'the mirror start-up is listed',
  );
  // the step trace names the flow's states
  const traced = (host.trace ?? []).flatMap((st) => st.trace).filter((l) => l.startsWith(`tap flow ${TF}: `));
  t.true(traced.some((l) => l.endsWith(': up')) && traced.some((l) => l.endsWith(': removed')), traced.join('\n'));
  t.deepEqual(report.hosts[0]!.invariants, []);

  // the CLI's text report lists the flow
  const cli = await runCli(['replay', '--etcd-endpoints', s.etcd.endpoints.join(','), '--host', s.host]);
  t.is(cli.code, 0, cli.err);
  t.regex(cli.out, new RegExp(`tap flows:\\n    ${TF}  removed\\n      states:   .*plugging.* -> up -> .*unplugging.* -> removed`));
  t.regex(cli.out, /spp-ctl commands \(\d+\):\n( {4}.*\n)* {4}mirror 3: port add ring:\d+ tx mirror_0\n/);
});

test('an etcdctl snapshot taken while an OUT flow is up replays to the flow up with the commands that put it in place on empty vfs', async (t) => {
  const s = await startTapSystem(t, PORTS, {});
  s.sim.emulator.clearLog();
  const tap = { host: s.host, tapFlowId: 'tf-snap', wait: true, timeoutMs: 15_000 };
  t.is((await createTap(s.client, { ...tap, servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'OUT' })).outcome, 'up');
  await s.agent!.controller.idle();
  const live = requests(s).filter((r) => r.path.includes('/components/'));
  // `etcdctl get --prefix /spp` text: key line, value line
  const file = join(mkdtempSync(join(tmpdir(), 'spp-replay-taps-')), 'snapshot.txt');
  writeFileSync(
    file,
    `${Object.entries(await dump(s.client))
      .flat()
      .join('\n')}\n`,
  );
  const cli = await runCli(['replay', file, '--host', s.host, '--format', 'json']);
  t.is(cli.code, 0, cli.err);
  const host = (JSON.parse(cli.out) as ReplayReport).hosts[0]!;
  const flow = host.taps?.find((f) => f.flowId === 'tf-snap');
  t.is(flow?.state, 'up', JSON.stringify(host.taps));
  // the replay's vfs start empty (as after a reboot): the layout build leaves out the port the flow moved into the mirror
  // (forward_2_rx's tx ring:5), so the step that detaches it holds already and is not sent
  t.is(live.length, 6);
  t.is(flow!.commands.length, 5, flow!.commands.join('\n'));
  t.false(
    flow!.commands.some((c) => c.includes('ring:5') && c.includes('forward_2_rx')),
    'ring:5 is never taken from forward_2_rx: it was never given',
  );
  t.is(flow!.commands.filter((c) => c.startsWith('mirror 3: ')).length, 3);
  t.true(
    host.commands.every((c) => !(c.includes('ring:5') && c.includes('forward_2_rx'))),
    'the layout build does not attach it',
  );
  t.deepEqual(host.invariants, []);
});
