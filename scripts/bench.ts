/**
 * `npm run bench`: how fast a VM's port comes up and how fast a node
 * recovers, next to the floor that etcd and spp-ctl impose. See
 * docs/performance.md for the figures and how to read them.
 *
 * stdout: a table, then one `BENCH {"name","value","unit"}` line per figure,
 * then one `GOAL pass|fail` line per goal. Progress goes to stderr. The exit
 * code is 0 whatever the goals say (1 only when the bench itself breaks).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { choice, commandHelp, int, parseCommandArgs, str, UsageError } from '../src/cli/framework';
import { command, FULL, QUICK } from './bench/command';
import { measureBindWrites } from './bench/etcd-writes';
import { reportBindWrites, reportRestartWrites, WRITES_SETTLE_MS } from './bench/etcd-writes-report';
import { type FanoutSamples, measureFanout } from './bench/fanout';
import { flatPlugGoal, historyGoal, snapshotGoal, vlanPlugGoal } from './bench/floor-goals';
import { BenchEnv, BenchHost } from './bench/harness';
import { benchLayouts } from './bench/layouts';
import { benchMachineFloor, type MachineFloor } from './bench/machine-floor';
import { measureBurst, measureFloor, measurePlugs, measureProcessStart, measureRestart, measureScale, settledRssKb, unplugAll } from './bench/measure';
import { measureMetricsCost } from './bench/metrics-cost';
import { WATCH_MODES } from './bench/multi-agent';
import { profileSummary, readCpuProfile } from './bench/profile';
import { benchReplay } from './bench/replay';
import { benchReplayHistory } from './bench/replay-history';
import { Report } from './bench/report';
import { benchTaps, reportTapsInto } from './bench/taps';
import { benchVlanReuse } from './bench/vlan-reuse';

const REAL_POLL_MS = 1000;
/** Hosts of the multi-agent scenario: 63 x 16 vhosts = 1,008 ports, the fewest full hosts for 1,000. */
const SCALE_HOSTS = 63;
const SCALE_NICS = 4;
const SCALE_VHOSTS = 4;
/** Bursts the profiled agent runs (--profile). */
const PROFILE_BURSTS = 40;

const progress = (msg: string): void => {
  process.stderr.write(`bench: ${msg}\n`);
};

/** Time spp-ctl alone needs for `n` requests to one vf, back to back: each after the first waits a whole poll period. */
function sppctlBound(n: number, requestMs: number, pollMs: number): number {
  return pollMs > 0 ? requestMs + (n - 1) * pollMs : n * requestMs;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseCommandArgs(command, argv).values;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\nrun with --help for the options\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(commandHelp(command).replace('usage: spp bench', 'usage: npm run bench --'));
    return 0;
  }
  let nics: number;
  let vhosts: number;
  let replayKeys: number;
  let historyRevisions: number;
  let scaleHosts: number;
  let scaleWatch: (typeof WATCH_MODES)[number];
  let fanoutHosts: number[];
  try {
    fanoutHosts = (str(values, 'fanout-hosts') ?? '1,16,64')
      .split(',')
      .map((v) => {
        const k = Number(v.trim());
        if (!Number.isInteger(k) || k < 0) throw new Error(`--fanout-hosts: expected whole numbers, got ${JSON.stringify(v)}`);
        return k;
      })
      .filter((k) => k > 0);
    nics = int(values, 'burst-nics', 4, 1);
    vhosts = int(values, 'burst-vhosts', 4, 1);
    replayKeys = int(values, 'replay-keys', 100_000, 1);
    historyRevisions = int(values, 'history-revisions', 10_000, 10);
    scaleHosts = int(values, 'scale-hosts', SCALE_HOSTS, 0);
    scaleWatch = choice(values, 'scale-watch', WATCH_MODES);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return 2;
  }
  const quick = values.quick === true;
  const n = quick ? QUICK : FULL;
  const report = new Report();
  const started = Date.now();

  progress('starting etcd');
  const env = await BenchEnv.start();
  try {
    progress(`floor (${n.floor} runs, then ${n.floorSlow} at ${REAL_POLL_MS} ms poll)`);
    const floor = await measureFloor(env, n.floor);
    report.samples('floor.watch_put', 'ms', floor.watchPut);
    report.samples('floor.sppctl_request', 'ms', floor.sppctlRequest);
    report.samples('floor.etcd_put', 'ms', floor.etcdPut);
    const plugFloor = report.samples('floor.plug', 'ms', floor.plugFloor, {
      note: 'put seen by a watcher + one spp-ctl request + one etcd put, summed per run',
    }).median;
    const slowFloorSamples = await measureFloor(env, n.floorSlow, REAL_POLL_MS);
    report.samples('floor.sppctl_request.poll1000', 'ms', slowFloorSamples.sppctlRequest, { note: 'sent at a random phase of the vf poll period' });
    const slowFloor = report.samples('floor.plug.poll1000', 'ms', slowFloorSamples.plugFloor).median;
    const slowRequest = median(slowFloorSamples.sppctlRequest);
    if (slowRequest < REAL_POLL_MS / 20) {
      // the poll period is changed through the emulator's live options object; an emulator that copies its options ignores it
      report.note(
        `the emulator did not apply the ${REAL_POLL_MS} ms poll period set after start (median request ${slowRequest.toFixed(1)} ms): the poll1000 figures are not paced`,
      );
    }
    const fastRequest = median(floor.sppctlRequest);
    const etcdFloor = (s: typeof floor): number => median(s.watchPut) + median(s.etcdPut);
    report.samples('floor.process_start', 'ms', await measureProcessStart(n.processStart), {
      note: 'spawn -> exit of `node bin/spp.js agent --help`: Node start-up and the CLI modules, no etcd, no spp-ctl',
    });

    // single ports, on a host shaped like the seed (2 NICs x 2 vhosts)
    progress(`single plugs: ${n.plug} flat, ${n.vlan} VLAN; then ${n.plugSlow} flat, ${n.vlanSlow} VLAN at ${REAL_POLL_MS} ms poll`);
    const single = await BenchHost.start(env, { nics: 2, vhosts: 2, label: 'single' });
    try {
      await single.spawnAgent();
      const flat = await measurePlugs(single, n.plug);
      const flatP50 = report.samples('plug.flat', 'ms', flat.plug, { floor: plugFloor }).median;
      report.samples('unplug.flat', 'ms', flat.unplug, { floor: plugFloor, note: 'action = unplug put -> the port keys deleted, seen by a watcher' });
      const vlan = await measurePlugs(single, n.vlan, { vlan: true });
      const vlanP50 = report.samples('plug.vlan', 'ms', vlan.plug, {
        floor: plugFloor,
        note: `${median(vlan.requestsPerPlug)} spp-ctl requests per VLAN plug against the floor's one`,
      }).median;
      report.samples('unplug.vlan', 'ms', vlan.unplug, { floor: plugFloor });
      report.value('plug.flat.sppctl_requests', 'requests', median(flat.requestsPerPlug));
      report.value('plug.vlan.sppctl_requests', 'requests', median(vlan.requestsPerPlug));

      single.setPollInterval(REAL_POLL_MS);
      const flatSlow = await measurePlugs(single, n.plugSlow, { pollIntervalMs: REAL_POLL_MS });
      const flatSlowP50 = report.samples('plug.flat.poll1000', 'ms', flatSlow.plug, { floor: slowFloor }).median;
      report.samples('unplug.flat.poll1000', 'ms', flatSlow.unplug, { floor: slowFloor });
      const vlanSlow = await measurePlugs(single, n.vlanSlow, { vlan: true, pollIntervalMs: REAL_POLL_MS });
      const vlanSlowP50 = report.samples('plug.vlan.poll1000', 'ms', vlanSlow.plug, { floor: slowFloor }).median;
      report.samples('unplug.vlan.poll1000', 'ms', vlanSlow.unplug, { floor: slowFloor });

      const flatGoal = flatPlugGoal(flatP50, plugFloor);
      report.goal(flatGoal.name, flatGoal.pass, flatGoal.detail);
      report.goal(
        'plug.flat.poll1000 p50 within 2x the floor',
        flatSlowP50 <= 2 * slowFloor,
        `${flatSlowP50.toFixed(0)} ms vs floor ${slowFloor.toFixed(0)} ms (${(flatSlowP50 / slowFloor).toFixed(2)}x)`,
      );
      const vlanGoal = vlanPlugGoal(vlanP50, plugFloor, median(vlan.requestsPerPlug), fastRequest);
      report.goal(vlanGoal.name, vlanGoal.pass, vlanGoal.detail);
      const vlanSlowFloor = etcdFloor(slowFloorSamples) + sppctlBound(median(vlan.requestsPerPlug), slowRequest, REAL_POLL_MS);
      report.goal(
        'plug.vlan.poll1000 p50 within 2x the floor',
        vlanSlowP50 <= 2 * slowFloor,
        `${vlanSlowP50.toFixed(0)} ms vs floor ${slowFloor.toFixed(0)} ms (${(vlanSlowP50 / slowFloor).toFixed(2)}x; against its own ${median(vlan.requestsPerPlug)} paced requests, ${vlanSlowFloor.toFixed(0)} ms: ${(vlanSlowP50 / vlanSlowFloor).toFixed(2)}x)`,
      );
      progress(`etcd writes: ${n.bindWrites} binds, each with the original driver's late watch`);
      reportBindWrites(report, await measureBindWrites(single, n.bindWrites, WRITES_SETTLE_MS));
    } finally {
      await single.close();
    }

    // the same plugs with the ops endpoint on and scraped, against an agent without it
    // at least 40 and 20 plugs each even in --quick: a median of fewer is noise on a shared machine
    const metricsRuns = { flat: Math.max(2 * n.plug, 40), vlan: Math.max(2 * n.vlan, 20) };
    progress(`metrics on/off: ${metricsRuns.flat} flat and ${metricsRuns.vlan} VLAN plugs each, alternating`);
    const cost = await measureMetricsCost(env, metricsRuns, 8);
    const note = `--ops on, /metrics scraped every 100 ms (${cost.scrapes} scrapes); alternating rounds with an agent without --ops`;
    const offFlat = report.samples('plug.flat.metrics_off', 'ms', cost.off.flat).median;
    const onFlat = report.samples('plug.flat.metrics_on', 'ms', cost.on.flat, { note }).median;
    const offVlan = report.samples('plug.vlan.metrics_off', 'ms', cost.off.vlan).median;
    const onVlan = report.samples('plug.vlan.metrics_on', 'ms', cost.on.vlan, { note }).median;
    // noise: run-to-run spread of these medians on a shared 2-core machine is about 20 % or 0.3 ms
    const withinNoise = (on: number, off: number): boolean => on <= off * 1.2 + 0.3;
    report.goal(
      'plug.flat p50 with metrics on within noise of off',
      withinNoise(onFlat, offFlat),
      `${onFlat.toFixed(2)} ms on vs ${offFlat.toFixed(2)} ms off (${(onFlat / offFlat).toFixed(2)}x)`,
    );
    report.goal(
      'plug.vlan p50 with metrics on within noise of off',
      withinNoise(onVlan, offVlan),
      `${onVlan.toFixed(2)} ms on vs ${offVlan.toFixed(2)} ms off (${(onVlan / offVlan).toFixed(2)}x)`,
    );

    // declared layouts: a plug without forwarders costs no more than on the default layout
    progress('layouts: plugs on the final default layout and on one without forwarders');
    await benchLayouts(env, report, { flat: Math.max(n.plug, 20), vlan: Math.max(n.vlan, 10) });

    // many ports on one host
    progress(`burst host ${nics} NICs x ${vhosts} vhosts: ${n.burst} bursts, ${n.burstSlow} at ${REAL_POLL_MS} ms poll, ${n.restart} restarts`);
    const burstHost = await BenchHost.start(env, { nics, vhosts, lenient: true, label: 'burst' });
    const profileDir = values.profile ? mkdtempSync(join(tmpdir(), 'spp-bench-prof-')) : undefined;
    try {
      await burstHost.spawnAgent();
      const ports = burstHost.vhostSlots().length;
      report.value('memory.agent_rss.idle', 'KiB', await settledRssKb(burstHost), `${nics} NICs, no port`);
      const burst = await measureBurst(burstHost, n.burst);
      const burstP50 = report.samples(`burst.${ports}_ports.all_up`, 'ms', burst.allUp, {
        note: `${nics} NICs x ${vhosts} vhosts, emulator lenient; action = plug put for every port at once -> the last port_status up seen`,
      }).median;
      report.value(`burst.${ports}_ports.sppctl_requests_per_port`, 'requests', median(burst.requestsPerPort));
      report.value(`burst.${ports}_ports.mutating_requests_per_port`, 'requests', median(burst.mutationsPerPort));
      report.value(
        `burst.${ports}_ports.agent_cpu`,
        'ms',
        mean(burst.agentCpuMs),
        'CPU of the agent child per burst, mean over the bursts (/proc ticks of 10 ms)',
      );
      report.value(
        `burst.${ports}_ports.bench_cpu`,
        'ms',
        mean(burst.benchCpuMs),
        'CPU of the bench process (emulator, watcher, driver writes) per burst, mean',
      );
      const busiest = Math.max(...burst.busiestVfRequests);
      const bound = sppctlBound(busiest, fastRequest, 0) + etcdFloor(floor);
      report.goal(
        'burst limited by spp-ctl, not by the agent (default poll)',
        burstP50 <= 2 * bound,
        `${burstP50.toFixed(1)} ms vs ${bound.toFixed(1)} ms for spp-ctl to serve the busiest vf's ${busiest} requests plus one etcd round (${(burstP50 / bound).toFixed(2)}x; pass within 2x)`,
      );

      if (profileDir) {
        // a separate agent under the profiler, so the figures above stay unprofiled; many bursts so that start-up is a small share
        progress(`profile: ${PROFILE_BURSTS} bursts under node --cpu-prof`);
        await burstHost.killAgent('SIGKILL');
        await burstHost.spawnAgent({ cpuProfileDir: profileDir });
        await measureBurst(burstHost, PROFILE_BURSTS);
        await burstHost.killAgent('SIGTERM');
        const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
        if (!file) report.note(`--profile: no .cpuprofile was written in ${profileDir}`);
        else {
          const lines = profileSummary(
            readCpuProfile(join(profileDir, file)),
            join(__dirname, '..', '..'),
            (ms) =>
              `profile of the agent over ${PROFILE_BURSTS} bursts of ${ports} ports (${ms.toFixed(0)} ms sampled, start-up included): ${join(profileDir, file)}`,
          );
          process.stdout.write(`${lines.join('\n')}\n\n`);
        }
        await burstHost.spawnAgent();
      }

      burstHost.setPollInterval(REAL_POLL_MS);
      const slow = await measureBurst(burstHost, n.burstSlow);
      const slowP50 = report.samples(`burst.${ports}_ports.all_up.poll1000`, 'ms', slow.allUp).median;
      burstHost.setPollInterval(0);
      const slowBusiest = Math.max(...slow.busiestVfRequests);
      const slowBound = sppctlBound(slowBusiest, slowRequest, REAL_POLL_MS) + etcdFloor(slowFloorSamples);
      report.goal(
        'burst limited by spp-ctl, not by the agent (poll 1000 ms)',
        slowP50 <= 2 * slowBound,
        `${slowP50.toFixed(0)} ms vs ${slowBound.toFixed(0)} ms for spp-ctl to serve the busiest vf's ${slowBusiest} paced requests plus one etcd round (${(slowP50 / slowBound).toFixed(2)}x; pass within 2x)`,
      );

      const restart = await measureRestart(burstHost, n.restart);
      report.value(`memory.agent_rss.${ports}_ports`, 'KiB', await settledRssKb(burstHost), `after a restart with ${ports} ports plugged`);
      const fromSpawn = report.samples(`restart.${ports}_ports.from_spawn`, 'ms', restart.fromSpawn, {
        note: 'SIGKILL, then spawn -> every port plugged again (its `port is up` log line; port_status is put only where a driver may still wait), includes Node start-up',
      }).median;
      report.samples(`restart.${ports}_ports.from_first_log`, 'ms', restart.fromStart, {
        note: "the new agent's first log line -> all up (without Node start-up and module loading)",
      });
      const mutations = Math.max(...restart.mutations);
      report.value(`restart.${ports}_ports.mutating_requests`, 'requests', mutations, 'the most over all restarts');
      report.goal(
        `restart recovery under 1 s for ${ports} ports with zero mutating requests`,
        fromSpawn < 1000 && mutations === 0,
        `${fromSpawn.toFixed(0)} ms from spawn (p50), ${mutations} mutating requests`,
      );
      reportRestartWrites(report, ports, restart.writes);
      await unplugAll(burstHost, restart.plugged);
    } finally {
      await burstHost.close();
    }

    // a free vhost's tags left for the next plug (issue 19), in both modes
    await benchVlanReuse(env, report, n.vlanReuse, REAL_POLL_MS, progress);

    // TaaS (issue 31 item 6): tap create and delete at real pacing, ours against upstream's serial order; one run each (about 2 min), in --quick too
    progress(`taps: create and delete of IN, OUT and BOTH at ${REAL_POLL_MS} ms poll, ours and upstream's serial order`);
    reportTapsInto(report, await benchTaps(REAL_POLL_MS, progress, env), REAL_POLL_MS);

    if (scaleHosts > 0) {
      const ports = scaleHosts * SCALE_NICS * SCALE_VHOSTS;
      progress(`multi-agent: ${scaleHosts} hosts x ${SCALE_NICS * SCALE_VHOSTS} ports (${ports}) in one process, ${scaleWatch} list-watch`);
      const scale = await measureScale(env, { hosts: scaleHosts, nics: SCALE_NICS, vhosts: SCALE_VHOSTS, watch: scaleWatch });
      const label = scale.ports >= 1000 ? '1000_ports' : `${scale.ports}_ports`;
      const shape = `${scale.hosts} hosts x ${SCALE_NICS} NICs x ${SCALE_VHOSTS} vhosts = ${scale.ports} ports, one process, ${scaleWatch} list-watch`;
      report.value('multi_agent.ready', 'ms', scale.readyMs, `spawn -> every NIC of the ${scale.hosts} hosts ready`);
      report.value('memory.multi_agent_rss.idle', 'KiB', scale.idleRssKb, `${shape}; every NIC ready, no port; read after full GCs until it moved < 2 %`);
      report.value(`memory.multi_agent_rss.${label}`, 'KiB', scale.pluggedRssKb, `the same with all ${scale.ports} ports up`);
      report.value('memory.multi_agent_rss.per_port', 'KiB', (scale.pluggedRssKb - scale.idleRssKb) / scale.ports, `(${label} - idle) / ${scale.ports}`);
      report.value('memory.multi_agent_heap.idle', 'KiB', scale.idleHeapKb, 'V8 heap in use after a full GC (steadier than the RSS)');
      report.value(`memory.multi_agent_heap.${label}`, 'KiB', scale.pluggedHeapKb);
      report.value('memory.multi_agent_heap.per_port', 'KiB', (scale.pluggedHeapKb - scale.idleHeapKb) / scale.ports);
      report.value(
        `multi_agent.${label}.all_up`,
        'ms',
        scale.allUpMs,
        `every vhost of every host claimed and bound, then action = plug for all ${scale.ports} at once -> the last port_status up seen`,
      );
      report.value(`multi_agent.${label}.agent_cpu`, 'ms', scale.agentCpuMs, 'CPU of the multi-agent child over the plugs');
      report.value(`multi_agent.${label}.etcd_cpu`, 'ms', scale.etcdCpuMs, 'CPU of etcd over the plugs (watch fan-out included)');
      report.value(`multi_agent.${label}.bench_cpu`, 'ms', scale.benchCpuMs, 'CPU of the bench process (the emulators, watcher, driver writes) over the plugs');
      report.value(
        `multi_agent.${label}.settle_cpu`,
        'ms',
        scale.settleCpuMs,
        `CPU of the multi-agent child over the ${scale.settleMs / 1000} s after all were up (each port's up re-puts, lease keep-alives)`,
      );
      if (scale.requests !== scale.ports) report.note(`multi-agent: ${scale.requests} spp-ctl requests for ${scale.ports} flat plugs (one each expected)`);
      if (scale.exitCode !== 0) report.note(`multi-agent: exited ${scale.exitCode} after SIGTERM (0 expected: every agent stopped cleanly)`);
      if (scale.warnings.length > 0) report.note(`multi-agent: ${scale.warnings.length} warning/error records, the first: ${scale.warnings[0]}`);
    }

    if (fanoutHosts.length > 0) {
      const fan: FanoutSamples[] = [];
      for (const hosts of fanoutHosts) {
        progress(`fan-out: ${n.fanoutBinds} binds on one host of ${hosts}, every host with its own agent and etcd client`);
        const f = await measureFanout(env, { hosts, binds: n.fanoutBinds });
        fan.push(f);
        report.value(
          `fanout.${hosts}_hosts.watch_events_per_bind`,
          'events',
          f.eventsPerBind,
          'watch events etcd sent to all agents per bind (claim, bind_port, plug -> up, unplug -> gone), by etcd_debugging_mvcc_events_total',
        );
        report.value(`fanout.${hosts}_hosts.etcd_cpu_per_bind`, 'ms', f.etcdCpuPerBindMs, 'etcd CPU per bind, its idle CPU over as long subtracted');
      }
      const first = fan[0]!;
      const last = fan[fan.length - 1]!;
      report.value(
        `startup_list.${last.hosts}_hosts`,
        'keys',
        last.startupListKeys,
        `keys one agent lists at start-up on a cloud of ${last.hosts} hosts (${last.cloudKeys} keys under ${'/spp/openstack/'})`,
      );
      if (fan.length > 1) {
        report.goal(
          `watch events per bind flat from ${first.hosts} to ${last.hosts} hosts`,
          last.eventsPerBind <= first.eventsPerBind * 1.25 + 1,
          fan.map((f) => `${f.hosts} hosts: ${f.eventsPerBind.toFixed(1)}`).join(', '),
        );
        report.goal(
          `etcd CPU per bind flat from ${first.hosts} to ${last.hosts} hosts`,
          last.etcdCpuPerBindMs <= first.etcdCpuPerBindMs * 2 + 5,
          `${fan.map((f) => `${f.hosts} hosts: ${f.etcdCpuPerBindMs.toFixed(1)} ms`).join(', ')} (pass within 2x + 5 ms: /proc ticks are 10 ms)`,
        );
      }
      report.goal(
        `start-up list of one agent on ${last.hosts} hosts holds its own keys only`,
        last.startupListKeys <= last.cloudKeys / last.hosts + 1,
        `${last.startupListKeys} keys of ${last.cloudKeys} in the cloud`,
      );
    }

    progress('replay');
    const replaySnapshot = str(values, 'replay-snapshot');
    const replay = await benchReplay({ keys: replayKeys, ...(replaySnapshot ? { snapshot: replaySnapshot } : {}) });
    // the time goals are against the floors (issue 32 item 3): the replay's machines alone, and for a history its read
    const snapshotWhat = replaySnapshot ? 'the given snapshot' : `the ${replayKeys.toLocaleString('en-US')}-key snapshot`;
    if ('failed' in replay) {
      report.note(`replay failed: ${replay.failed}`);
      report.goal('replay over 100,000 keys/s', false, `not measured: ${replay.failed}`);
      report.goal(snapshotGoal(snapshotWhat, Number.NaN, Number.NaN, 1).name, false, `not measured: ${replay.failed}`);
    } else {
      report.value('replay.keys', 'keys', replay.keys);
      report.value('replay.time', 'ms', replay.ms);
      report.value('replay.keys_per_s', 'keys/s', replay.keysPerSec);
      report.value('replay.peak_rss', 'KiB', replay.peakRssKb);
      const cores = availableParallelism();
      const floor = await benchMachineFloor({ ports: Math.ceil(replay.ports / cores), nics: Math.ceil(replay.nics / cores), unplug: false });
      const floorText = machineFloor(report, 'floor.replay_machines.snapshot', floor, `a thread's share (1/${cores}) of the snapshot's machines`);
      report.goal('replay over 100,000 keys/s', replay.keysPerSec > 100_000, `${replay.keysPerSec.toFixed(0)} keys/s over ${replay.keys} keys`);
      const goal = snapshotGoal(snapshotWhat, replay.ms, 'failed' in floor ? Number.NaN : floor.coldMs, cores);
      report.goal(
        goal.name,
        goal.pass,
        `${goal.detail}; ${replay.keys} keys on ${cores} cores (read and replayed in a fresh process, default threads); ${floorText}`,
      );
    }

    progress(`replay of one host's etcd history (${historyRevisions} revisions)`);
    const history = await benchReplayHistory({ revisions: historyRevisions });
    if ('failed' in history) {
      report.note(`history replay failed: ${history.failed}`);
      report.goal(historyGoal(historyRevisions, Number.NaN, Number.NaN, Number.NaN).name, false, `not measured: ${history.failed}`);
    } else {
      report.value('replay_history.revisions', 'revisions', history.revisions);
      report.value(
        'replay_history.read',
        'ms',
        history.readMs,
        'readHistory: the listing, then one watch from the start revision up to the head (etcd sends a catching-up watcher 1,000 revisions per 100 ms)',
      );
      report.value('replay_history.replay', 'ms', history.replayMs, `replay() of the ${history.steps} steps (one per revision of the host)`);
      report.value('replay_history.time', 'ms', history.totalMs, 'read + replay, in a fresh process (after module loading)');
      const floor = await benchMachineFloor({ ports: history.ports, nics: 0, unplug: true });
      const floorText = machineFloor(report, 'floor.replay_machines.history', floor, "the history's port machines");
      const goal = historyGoal(history.revisions, history.totalMs, history.readMs, 'failed' in floor ? Number.NaN : floor.coldMs);
      report.goal(goal.name, goal.pass, `${goal.detail}; replay ${history.replayMs.toFixed(0)} ms; ${floorText}`);
    }
  } finally {
    await env.close();
  }
  report.note(
    `agent: child process \`node bin/spp.js agent --log-level info\`; multi-agent: child process \`node --expose-gc dist/scripts/bench/multi-agent.js\` at warn; ${quick ? 'quick' : 'full'} run took ${((Date.now() - started) / 1000).toFixed(0)} s`,
  );
  process.stdout.write(report.render());
  return 0;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(s.length / 2) - 1]!;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // etcd3's grpc channel can hold the loop open for a moment after close()
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

/**
 * The replay's floor (scripts/bench/machine-floor.ts): `what`'s machines run
 * alone in a fresh process, with actors that return at once. Reports it and
 * returns the text for the goal's line.
 */
function machineFloor(report: Report, name: string, floor: MachineFloor, what: string): string {
  if ('failed' in floor) {
    report.note(`${name} failed: ${floor.failed}`);
    return `floor not measured: ${floor.failed}`;
  }
  const work = `${floor.ports.toLocaleString('en-US')} ports${floor.unplug ? ' plugged and unplugged' : ''}, ${floor.nics.toLocaleString('en-US')} NICs`;
  report.value(
    name,
    'ms',
    floor.coldMs,
    `${what} (${work}) alone: xstate with actors that return at once, in a fresh process; warm ${floor.warmMs.toFixed(0)} ms`,
  );
  return `the machines alone, without I/O or controller, take ${floor.coldMs.toFixed(0)} ms${floor.nics > 0 ? ' per thread' : ''} (${name})`;
}
