/**
 * `spp explain --tap-flow-id` against a real etcd, the emulator's spp_vfs and
 * spp_mirror and the agent: each verdict set up for real where the agent
 * lets it stand, and from the gathered facts (one status changed) where the
 * agent would repair it at once.
 */
import test from 'ava';
import { gatherHost, hostExplainInput } from '../src/explain/gather';
import { explainTap, TAP_VERDICTS } from '../src/explain/tap-explain';
import { pythonJson } from '../src/protocol/codecs';
import { keys } from '../src/protocol/keys';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { runCli } from './helpers/cli';
import { opsUrl } from './helpers/ops';
import { type System, until } from './helpers/system';
import { conflictingTap, createUpTap, MIRROR_SEC, startTapSystem, tapPorts } from './helpers/tap-system';

const PORTS = tapPorts('b0000000');
const SERVICE = PORTS.service;
const SOURCE = PORTS.source;

interface Explained {
  readonly code: number;
  readonly verdict: string;
  readonly first: string;
  readonly facts: readonly string[];
  readonly text: string;
}

async function explain(s: System, flowId: string, ops?: string): Promise<Explained> {
  const args = ['explain', '--host', s.host, '--tap-flow-id', flowId, '--etcd-endpoints', s.etcd.endpoints.join(','), '--spp-ctl', s.sim.url];
  if (ops) args.push('--ops', ops);
  const json = await runCli([...args, '--format', 'json']);
  const text = await runCli(args);
  if (json.err) throw new Error(json.err);
  const e = JSON.parse(json.out) as { verdict: string; sentences: Array<{ text: string; facts: string[] }> };
  return { code: json.code, verdict: e.verdict, first: e.sentences[0]!.text, facts: e.sentences[0]!.facts, text: text.out };
}

async function put(s: System, entries: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(entries)) await s.client.put(k).value(v);
}

const info = (source: string, mirrorIn: number | null, mirrorOut: number | null): string =>
  pythonJson({ service_port: SERVICE.portId, source_port: source, mirror_in: mirrorIn, mirror_out: mirrorOut });

test('spp explain --tap-flow-id: up with the redirected rings, and the verdict of each broken flow', async (t) => {
  const s = await startTapSystem(t, PORTS, { ops: '127.0.0.1:0' });
  const ops = await opsUrl(s.agent);
  await createUpTap(t, s, PORTS, 'tf-in', 'IN');
  await s.agent!.controller.idle();

  const up = await explain(s, 'tf-in', ops);
  t.deepEqual([up.code, up.verdict], [0, 'up'], up.text);
  t.regex(
    up.first,
    /^Tap flow tf-in is up: tap_status = up \(IN via mirror_0: source vhost:2 \(spp_vf 2\), service vhost:1 \(spp_vf 1\)\), and every ring is where the plan puts it\.$/,
  );
  t.true(
    up.facts.some((f) => f.startsWith('IN: forward_2_tx (spp_vf 2) gave rx ring:4')),
    'which vf component lost which ring to which mirror component',
  );
  t.true(
    up.facts.some((f) => f.startsWith(`GET ${s.sim.url}/v1/mirrors/3: mirror_0 (core 16) rx ring:4 tx ring:8,ring:9`)),
    up.facts.join('\n'),
  );
  t.notRegex(up.text, /Not checked/);

  t.deepEqual([(await explain(s, 'tf-nope')).verdict, (await explain(s, 'tf-nope')).code], ['no-keys', 1]);

  await put(s, { [keys.tapAction(s.host, 'tf-half')]: 'plug' });
  const half = await explain(s, 'tf-half');
  t.is(half.verdict, 'no-tap-info');
  t.regex(half.first, /tap_action "plug" but no tap_info/);

  await put(s, { [keys.tapInfo(s.host, 'tf-noact')]: info(SOURCE.portId, null, 1) });
  t.is((await explain(s, 'tf-noact')).verdict, 'no-tap-action');

  // the source port bound on another host
  const elsewhere = 'b0000000-0000-0000-0000-0000000000e1';
  await put(s, {
    [keys.bindPort('spp5', elsewhere)]: pythonJson({ vhost_id: 3, mac_address: 'fa:16:3e:00:00:e1' }),
    [keys.tapInfo(s.host, 'tf-away')]: info(elsewhere, null, 1),
    [keys.tapAction(s.host, 'tf-away')]: 'plug',
  });
  const away = await explain(s, 'tf-away');
  t.is(away.verdict, 'port-not-bound');
  t.regex(away.first, /^The source port b0000000-0000-0000-0000-0000000000e1 is bound on another host \(spp5\), not on spp4/);

  // a mirror that names another flow
  await put(s, {
    [keys.mirror(s.host, 1)]: 'tf-other',
    [keys.tapInfo(s.host, 'tf-unclaimed')]: info(SOURCE.portId, null, 1),
    [keys.tapAction(s.host, 'tf-unclaimed')]: 'plug',
  });
  const unclaimed = await explain(s, 'tf-unclaimed');
  t.is(unclaimed.verdict, 'mirror-not-claimed');
  t.regex(
    unclaimed.first,
    /mirror_out names mirror 1, but the mirror is not claimed by tap flow tf-unclaimed: \/spp\/openstack\/mirror\/spp4\/1 names tap flow tf-other/,
  );

  // a second flow in the same direction on the same source port: the agent reports it, spp status shows it, explain names the conflict
  const reported = await conflictingTap(s, PORTS, 'tf-dup', 'IN');
  const dup = await explain(s, 'tf-dup', ops);
  t.is(dup.verdict, 'conflict', dup.text);
  t.regex(dup.first, /tap flow tf-in already mirrors IN of the source port/);
  const status = await runCli(['status', '--etcd-endpoints', s.etcd.endpoints.join(',')]);
  t.true(status.out.includes(`tap flow tf-dup failed: ${reported.replace(/^error: /, '')}`), status.out);
  t.regex(status.out, /^ {4}tf-dup +IN .* ERROR \(see problems\)$/m, 'the table points to the reason');
  t.regex(status.out, /^ {4}tf-in +IN .* up$/m);

  // from the gathered facts: what the agent would repair at once, or a spp-ctl that lost its mirror
  await s.agent!.controller.idle();
  const facts = hostExplainInput(await gatherHost({ client: s.client, host: s.host, sppCtlUrl: s.sim.url, opsUrl: ops }));
  t.is(explainTap({ ...facts, flowId: 'tf-in' }).verdict, 'up');
  const mirror = facts.sppctl!.mirrors!.find((m) => m['client-id'] === MIRROR_SEC)!;
  const moved = {
    ...mirror,
    components: mirror.components.map((c) => ('name' in c && c.name === 'mirror_0' ? { ...c, rx_port: [] } : c)),
  };
  const differ = explainTap({ ...facts, flowId: 'tf-in', sppctl: { ...facts.sppctl!, mirrors: [moved] } });
  t.is(differ.verdict, 'rings-differ');
  t.true(differ.sentences[0]!.facts.includes('still needed: mirror 3: port add ring:4 rx mirror_0'), differ.sentences[0]!.facts.join('\n'));
  const noComponents = { ...mirror, components: mirror.components.map((c) => ({ core: c.core, type: 'unuse' as const })) };
  t.is(explainTap({ ...facts, flowId: 'tf-in', sppctl: { ...facts.sppctl!, mirrors: [noComponents] } }).verdict, 'mirror-components-missing');
  const noMirror = facts.sppctl!.processes!.filter((p) => p.type !== 'mirror');
  t.is(explainTap({ ...facts, flowId: 'tf-in', sppctl: { ...facts.sppctl!, processes: noMirror } }).verdict, 'mirror-not-running');
  const entries = facts.entries.map(([k, v]): [string, typeof v] =>
    k === keys.tapStatus(s.host, 'tf-in') ? [k, { ...v, value: 'error: spp_mirror said no' }] : [k, v],
  );
  const failed = explainTap({ ...facts, entries, flowId: 'tf-in' });
  t.is(failed.verdict, 'tap-error');
  t.regex(failed.sentences[0]!.text, /tap_status = "error: spp_mirror said no"/);

  // the agent gone: nothing acts on the flow
  await s.stopAgent();
  await until(async () => !(await s.client.get(keys.agent(s.host)).exists()), 'the liveness key gone');
  t.is((await explain(s, 'tf-in')).verdict, 'agent-down');

  // a mirror component stopped behind the agent's back shows from spp-ctl alone
  const sppctl = new SppCtlClient(httpTransport(s.sim.url));
  await sppctl.sendMirror({ op: 'mirror_detach', secId: MIRROR_SEC, component: 'mirror_0', port: 'ring:4', dir: 'rx' });
  const live = hostExplainInput(await gatherHost({ client: s.client, host: s.host, sppCtlUrl: s.sim.url }));
  const moved2 = explainTap({ ...live, liveness: 'unknown', flowId: 'tf-in' });
  t.is(moved2.verdict, 'rings-differ');
});

test('spp explain --help lists the tap verdicts after the port ones; --port-id and --tap-flow-id exclude each other', async (t) => {
  const help = await runCli(['explain', '--help']);
  t.is(help.code, 0);
  const listed = [...help.out.matchAll(/^ {2}([a-z-]+) {2,}\S/gm)].map((m) => m[1]);
  t.deepEqual(listed.slice(-Object.keys(TAP_VERDICTS).length), Object.keys(TAP_VERDICTS));
  const both = await runCli(['explain', '--host', 'h', '--port-id', 'p', '--tap-flow-id', 'tf']);
  t.is(both.code, 2);
  t.regex(both.err, /give --port-id or --tap-flow-id, not both/);
  const bad = await runCli(['explain', '--host', 'h', '--tap-flow-id', 'a/b']);
  t.is(bad.code, 2);
  t.regex(bad.err, /--tap-flow-id: /);
});
