/**
 * The bench's burst alone (the 4 x 4 host, the agent a child process): the
 * figures `npm run bench` prints for it and, with `--profile`, the agent
 * under `node --cpu-prof` over 40 more bursts, summarised as the bench does.
 * For measuring the agent's share of a burst without the whole bench.
 *
 *   node dist/scripts/bench/burst.js [bursts] [--profile] [--nics N] [--vhosts N]   (default 4 x 4, as the bench)
 */
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchEnv, BenchHost } from './harness';
import { bindAll, measureBurst, measureFloor, plugAll, unplugAll } from './measure';
import { profileSummary, readCpuProfile, withinWindows } from './profile';
import { mean, summarize } from './stats';

const PROFILE_BURSTS = 40;
const WARM_UP = 3;

async function main(bursts: number, profile: boolean, nics: number, vhosts: number): Promise<void> {
  const env = await BenchEnv.start();
  let host: BenchHost;
  try {
    host = await BenchHost.start(env, { nics, vhosts, lenient: true, label: 'burst' });
  } catch (err) {
    await env.close();
    throw err;
  }
  try {
    const floor = await measureFloor(env, 40);
    await host.spawnAgent();
    await measureBurst(host, WARM_UP);
    const burst = await measureBurst(host, bursts);
    const up = summarize(burst.allUp);
    const request = summarize(floor.sppctlRequest).median;
    const bound = Math.max(...burst.busiestVfRequests) * request + summarize(floor.watchPut).median + summarize(floor.etcdPut).median;
    const out = [
      `burst of ${burst.ports} ports, ${bursts} bursts after ${WARM_UP}: all up p50 ${up.median.toFixed(1)} ms (min ${up.min.toFixed(1)}, max ${up.max.toFixed(1)})`,
      `  agent CPU per burst ${mean(burst.agentCpuMs).toFixed(1)} ms (mean; 10 ms ticks), bench CPU ${mean(burst.benchCpuMs).toFixed(1)} ms`,
      `  spp-ctl requests per port ${mean(burst.requestsPerPort).toFixed(2)}, bound ${bound.toFixed(1)} ms (${(up.median / bound).toFixed(2)}x)`,
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    if (profile) {
      const dir = mkdtempSync(join(tmpdir(), 'spp-burst-prof-'));
      await host.killAgent('SIGKILL');
      await host.spawnAgent({ cpuProfileDir: dir });
      // the plug half of each burst, on the clock the profiler stamps its samples with
      const plugs: Array<[bigint, bigint]> = [];
      for (let i = 0; i < PROFILE_BURSTS; i++) {
        const ports = await bindAll(host);
        const from = process.hrtime.bigint();
        await plugAll(host, ports);
        plugs.push([from, process.hrtime.bigint()]);
        await unplugAll(host, ports);
        host.env.watch.clear();
      }
      await host.killAgent('SIGTERM');
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no .cpuprofile was written in ${dir}`);
      const root = join(__dirname, '..', '..', '..');
      const whole = readCpuProfile(join(dir, file));
      const lines = profileSummary(
        whole,
        root,
        (ms) => `profile of the agent over ${PROFILE_BURSTS} bursts (${ms.toFixed(0)} ms sampled, start-up included): ${join(dir, file)}`,
      );
      const half = withinWindows(whole, plugs);
      // kept beside the whole profile, for a closer look (it opens in Chrome's DevTools like any .cpuprofile)
      writeFileSync(join(dir, 'plug-half.cpuprofile'), JSON.stringify({ ...half, startTime: 0, endTime: half.timeDeltas.reduce((a, b) => a + b, 0) }));
      const plugHalf = profileSummary(
        half,
        root,
        (ms) => `the same, from each burst's first action put to its last up only (${ms.toFixed(0)} ms sampled): ${join(dir, 'plug-half.cpuprofile')}`,
      );
      process.stdout.write(`${[...lines, ...plugHalf].join('\n')}\n`);
    }
  } finally {
    await host.close();
    await env.close();
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const bursts = Number(args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--(nics|vhosts)$/)) ?? 20);
  main(bursts, args.includes('--profile'), option('--nics', 4), option('--vhosts', 4)).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`burst: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
