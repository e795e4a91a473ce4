/**
 * The plug latency with the agent's metrics on (--ops, scraped every 100 ms,
 * ten times faster than a usual Prometheus) and off: two hosts of the seed's
 * shape, one agent each, measured in alternating rounds so that drift of
 * the machine falls on both alike.
 */
import { freePort } from '../../src/localetcd/ports';
import type { BenchEnv } from './harness';
import { BenchHost } from './harness';
import { measurePlugs, type PlugSamples } from './measure';

export interface MetricsCost {
  readonly off: { readonly flat: number[]; readonly vlan: number[] };
  readonly on: { readonly flat: number[]; readonly vlan: number[] };
  readonly scrapes: number;
}

export async function measureMetricsCost(env: BenchEnv, counts: { flat: number; vlan: number }, rounds = 4): Promise<MetricsCost> {
  const off = await BenchHost.start(env, { nics: 2, vhosts: 2, label: 'metrics-off' });
  const on = await BenchHost.start(env, { nics: 2, vhosts: 2, label: 'metrics-on' });
  const out: MetricsCost = { off: { flat: [], vlan: [] }, on: { flat: [], vlan: [] }, scrapes: 0 };
  let scrapes = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await freePort();
    await off.spawnAgent();
    await on.spawnAgent({ args: ['--ops', `127.0.0.1:${port}`] });
    timer = setInterval(() => {
      void fetch(`http://127.0.0.1:${port}/metrics`).then(
        async (r) => {
          await r.text();
          scrapes += 1;
        },
        () => undefined,
      );
    }, 100);
    const add = (to: { flat: number[]; vlan: number[] }, flat: PlugSamples, vlan: PlugSamples): void => {
      to.flat.push(...flat.plug);
      to.vlan.push(...vlan.plug);
    };
    for (let r = 0; r < rounds; r++) {
      const flat = Math.ceil(counts.flat / rounds);
      const vlan = Math.ceil(counts.vlan / rounds);
      add(out.off, await measurePlugs(off, flat), await measurePlugs(off, vlan, { vlan: true }));
      add(out.on, await measurePlugs(on, flat), await measurePlugs(on, vlan, { vlan: true }));
    }
  } finally {
    if (timer) clearInterval(timer);
    await off.close();
    await on.close();
  }
  return { ...out, scrapes };
}
