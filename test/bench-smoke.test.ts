/**
 * The bench library with tiny counts against a real etcd, the emulator and
 * the agent as a child process: every measurement returns well-formed
 * numbers. No timing thresholds: the figures are the bench's business.
 */
import test from 'ava';
import { measureBindWrites } from '../scripts/bench/etcd-writes';
import { BenchEnv, BenchHost, benchMappings } from '../scripts/bench/harness';
import { benchMachineFloor } from '../scripts/bench/machine-floor';
import { measureBurst, measureFloor, measurePlugs, measureProcessStart, measureRestart, settledRssKb } from '../scripts/bench/measure';
import { tracePlugs, traceSteps } from '../scripts/bench/plug-trace';
import { byLayer, hotSpots, withinWindows } from '../scripts/bench/profile';
import { countSnapshotKeys } from '../scripts/bench/replay';
import { Report } from '../scripts/bench/report';
import { percentile, summarize } from '../scripts/bench/stats';
import { measureVlanBurst, measureVlanReuse } from '../scripts/bench/vlan-reuse';
import { parseMappings } from '../src/protocol/mappings';

const isTime = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

test('floor, single plugs, burst, restart and memory give finite numbers of the asked counts', async (t) => {
  const env = await BenchEnv.start();
  t.teardown(() => env.close());

  const floor = await measureFloor(env, 3);
  for (const k of ['watchPut', 'sppctlRequest', 'etcdPut', 'plugFloor'] as const) {
    t.is(floor[k].length, 3, k);
    t.true(floor[k].every(isTime), `${k}: ${floor[k].join(', ')}`);
  }
  floor.plugFloor.forEach((sum, i) => {
    t.is(sum, floor.watchPut[i]! + floor.sppctlRequest[i]! + floor.etcdPut[i]!);
  });

  const host = await BenchHost.start(env, { nics: 2, vhosts: 1, label: 'smoke' });
  t.teardown(() => host.close());
  await host.spawnAgent();
  t.true(host.rssKb() > 0);

  const flat = await measurePlugs(host, 3);
  t.is(flat.plug.length, 3);
  t.true([...flat.plug, ...flat.unplug].every(isTime));
  t.deepEqual(flat.requestsPerPlug, [1, 1, 1], 'a flat plug is one classifier_table request');
  const vlan = await measurePlugs(host, 1, { vlan: true });
  t.deepEqual(vlan.requestsPerPlug, [5], 'a VLAN plug is two re-attaches (detach + attach each) and the vlan entry');

  const writes = await measureBindWrites(host, 2, 500);
  t.deepEqual(writes.upPuts, [2, 2], 'the put and one re-assert');
  t.deepEqual(writes.agentWrites, [2, 2]);
  t.deepEqual(writes.revisions, [5, 5], "the driver's 3 and the agent's 2");
  t.true(writes.agentBytes.every((b) => b > 0));
  t.is(writes.lateWatchMissed, 0);

  const burst = await measureBurst(host, 1);
  t.is(burst.ports, 2);
  t.true(burst.allUp.every(isTime));
  t.deepEqual(burst.mutationsPerPort, [1]);
  t.deepEqual(burst.busiestVfRequests, [1], 'one port per vf');
  t.true([...burst.agentCpuMs, ...burst.benchCpuMs].every(isTime));

  const restart = await measureRestart(host, 1, 0);
  t.is(restart.ports, 2);
  t.true([...restart.fromSpawn, ...restart.fromStart].every(isTime));
  t.true((await measureProcessStart(1)).every(isTime));
  t.deepEqual(restart.mutations, [0], 'a restart on an unchanged host sends no mutating request');
  t.is(restart.writes.length, 1);
  t.true(restart.writes[0]!.upPuts <= restart.ports, JSON.stringify(restart.writes));
  t.true((await settledRssKb(host, 0)) > 0);
});

test('VLAN reuse and VLAN bursts: times and the request counts of issue 19 (poll 0)', async (t) => {
  const env = await BenchEnv.start();
  t.teardown(() => env.close());
  const host = await BenchHost.start(env, { nics: 1, vhosts: 2, label: 'smoke-vlan' });
  t.teardown(() => host.close());
  await host.spawnAgent();
  const r = await measureVlanReuse(host, 2, 0);
  t.deepEqual(
    [r.firstPlug, r.unplug, r.replugSame, r.replugOther, r.flatAfterUnplug].map((c) => c.commands),
    [
      [5, 5],
      [1, 1],
      [1, 1],
      [3, 3],
      [5, 5],
    ],
    'every run starts on a vhost without tags',
  );
  t.true([r.firstPlug, r.unplug, r.replugSame, r.replugOther, r.flatAfterUnplug].every((c) => c.ms.length === 2 && c.ms.every(isTime)));
  const vlan = await measurePlugs(host, 2, { vlan: true });
  t.deepEqual(vlan.requestsPerPlug, [5, 5], 'measurePlugs clears the tags between VLAN runs: each is a first VLAN plug');

  const b = await measureVlanBurst(env, 1, 0);
  t.is(b.ports, 4);
  t.deepEqual([b.fresh.commands, b.warm.commands], [[20], [4]]);
  for (const c of [b.fresh, b.warm]) t.true([...c.allUp, ...c.worstPort, ...c.bestPort].every(isTime) && c.worstPort[0]! >= c.bestPort[0]!);
  const reset = await measureVlanBurst(env, 1, 0, { agentArgs: ['--unplug-resets-vlan'] });
  t.deepEqual([reset.fresh.commands, reset.warm.commands], [[20], [20]]);
});

test('plug trace: every moment of a flat plug, in the order the plug goes through them', async (t) => {
  const rows = await tracePlugs(2);
  t.is(rows.length, 2);
  for (const m of rows) {
    const order = [m.put, m.event, m.plugging, m.sendStart, m.sendEnd, m.putAnswered];
    t.true(
      [...order, m.watched].every((v) => typeof v === 'number'),
      JSON.stringify(m),
    );
    t.deepEqual(
      [...order].sort((a, b) => a! - b!),
      order,
      JSON.stringify(m),
    );
    // the bench's watcher and the agent's transaction answer race; both come after the put. So does the
    // action's own watch event, which can come after the emit: a snapshot read another range's event
    // (the bind_port put just before) started may already hold the action put
    t.true(m.watched! > m.put! && m.acked! >= m.put! && m.upSeen! > m.sendEnd! && m.upLogged! >= m.putAnswered!, JSON.stringify(m));
  }
  const steps = traceSteps(rows);
  // watcher -> emit is the one step that can be negative (the read above); every other is a duration
  const durations = steps.filter((s) => !s.label.startsWith('watcher -> '));
  t.is(durations.length, steps.length - 1);
  t.true(steps.length >= 7 && durations.every((s) => isTime(s.median) && s.max >= s.median) && steps.every((s) => Number.isFinite(s.median)));
});

test('bench hosts: every NIC on cores of its own, valid beyond the real limits only where they are exceeded', (t) => {
  t.is(benchMappings(2, 1), '00:04.0#phys1#1#0x3e,00:05.0#phys2#1#0x7c0');
  t.deepEqual(parseMappings(benchMappings(4, 4)).errors, []);
  // 4 NICs x 16 vhosts need 140 cores and ring numbers up to 127: no valid host, whatever the limits
  t.true(parseMappings(benchMappings(4, 16), { beyondRealLimits: true }).errors.length > 0);
});

test('stats: nearest-rank percentiles', (t) => {
  t.is(percentile([1, 2, 3, 4], 50), 2);
  t.is(percentile([1, 2, 3, 4], 99), 4);
  t.deepEqual(summarize([3, 1, 2]), { n: 3, median: 2, p99: 3, min: 1, max: 3 });
  t.throws(() => summarize([]), { message: /no samples/ });
});

test('report: a table row and BENCH lines of {name, value, unit} per figure, GOAL lines', (t) => {
  const r = new Report();
  r.samples('plug.flat', 'ms', [4, 5, 6], { floor: 2.5 });
  r.value('memory.agent_rss.idle', 'KiB', 1234);
  r.goal('plug within 2x', true, '5 ms vs 2.5 ms');
  const out = r.render();
  const bench = out
    .split('\n')
    .filter((l) => l.startsWith('BENCH '))
    .map((l) => JSON.parse(l.slice(6)) as unknown);
  t.deepEqual(bench, [
    { name: 'plug.flat.p50', value: 5, unit: 'ms' },
    { name: 'plug.flat.p99', value: 6, unit: 'ms' },
    { name: 'plug.flat.p50_x_floor', value: 2, unit: 'x' },
    { name: 'memory.agent_rss.idle', value: 1234, unit: 'KiB' },
  ]);
  t.regex(out, /^plug\.flat\s+3\s+5\.00\s+6\.00\s+ms\s+2\.00x$/m);
  t.regex(out, /^GOAL pass plug within 2x: 5 ms vs 2\.5 ms$/m);
});

test('profile: self time per function, largest first, V8 entries kept', (t) => {
  const frame = (functionName: string, url = ''): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber: 9 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)') },
      { id: 2, callFrame: frame('parseKey', '/repo/dist/src/protocol/keys.js') },
      { id: 3, callFrame: frame('(garbage collector)') },
    ],
    samples: [2, 3, 2, 2],
    timeDeltas: [1000, 1000, 2000, 1000],
  };
  const { totalMs, spots } = hotSpots(profile, '/repo');
  t.is(totalMs, 5);
  t.deepEqual(spots[0], { where: 'parseKey (dist/src/protocol/keys.js:10)', selfMs: 4, percent: 80 });
  t.is(spots[1]!.where, '(garbage collector)');
});

test('profile: busy time by layer goes to the innermost frame of a known layer', (t) => {
  const frame = (functionName: string, url = ''): { functionName: string; url: string; lineNumber: number } => ({ functionName, url, lineNumber: 0 });
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 5] },
      { id: 2, callFrame: frame('handle', '/r/dist/src/agent/controller.js'), children: [3] },
      { id: 3, callFrame: frame('log', '/r/node_modules/winston/lib/winston/logger.js'), children: [4] },
      { id: 4, callFrame: frame('writev', 'node:internal/stream_base_commons') },
      { id: 5, callFrame: frame('(idle)') },
    ],
    samples: [4, 2, 5, 1],
    timeDeltas: [3000, 1000, 5000, 1000],
  };
  const { busyMs, layers } = byLayer(profile);
  t.is(busyMs, 5);
  t.deepEqual(
    layers.map((l) => [l.where, l.selfMs]),
    [
      ['logging (winston)', 3],
      ['agent code (controller, store, planner, codecs)', 1],
      ['other', 1],
    ],
  );
});

test('replay hook: keys, ports and NICs of an etcdctl text snapshot', (t) => {
  t.deepEqual(countSnapshotKeys('/spp/openstack/a\n1\n/spp/openstack/b\n{"x": 1}\n'), { keys: 2, ports: 0, nics: 0 });
  t.deepEqual(countSnapshotKeys(''), { keys: 0, ports: 0, nics: 0 });
  const snapshot = [
    '/spp/openstack/configuration/h1',
    '[{"num_vhost": 1, "core_mask": "0x6", "pci_address": "00:04.0", "physical_network": "p"}, {"num_vhost": 1, "core_mask": "0x1a", "pci_address": "00:05.0", "physical_network": "q"}]',
    '/spp/openstack/configuration/h2',
    'not json',
    '/spp/openstack/bind_port/h1/7f3c0a52-0000-4000-8000-000000000001',
    '{"vhost_id": 0, "mac_address": "fa:16:3e:00:00:01"}',
    '/spp/openstack/action/h1/7f3c0a52-0000-4000-8000-000000000001',
    'plug',
  ].join('\n');
  t.deepEqual(countSnapshotKeys(snapshot), { keys: 4, ports: 1, nics: 2 });
});

test('machine floor: the NIC and port lifecycles run in a child process and give finite times', async (t) => {
  const floor = await benchMachineFloor({ ports: 30, nics: 6, unplug: true });
  if ('failed' in floor) return t.fail(floor.failed);
  t.like(floor, { ports: 30, nics: 6, unplug: true });
  t.true(Number.isFinite(floor.coldMs) && floor.coldMs > 0);
  t.true(Number.isFinite(floor.warmMs) && floor.warmMs > 0);
});

test('profile: withinWindows keeps the samples stamped inside the windows (hrtime nanoseconds), with their own deltas', (t) => {
  const frame = (functionName: string): { functionName: string; url: string; lineNumber: number } => ({ functionName, url: '', lineNumber: 0 });
  // samples at 1,010 / 1,020 / 1,050 / 1,100 us after a start at 1,000 us
  const profile = {
    nodes: [{ id: 1, callFrame: frame('(root)') }],
    startTime: 1000,
    samples: [1, 1, 1, 1],
    timeDeltas: [10, 10, 30, 50],
  };
  const cut = withinWindows(profile, [[1_015_000n, 1_050_000n]]);
  t.deepEqual(cut.timeDeltas, [10, 30], 'the samples at 1,020 and 1,050 us');
  t.deepEqual(withinWindows(profile, [[0n, 1_009_000n]]).samples, []);
  t.throws(() => withinWindows({ ...profile, startTime: undefined }, []), { message: /no startTime/ });
});
