/**
 * Plugs on the final default layout against plugs on a layout without
 * forwarders (upstream's customization example 2): the declared layout saves
 * cores, and a plug on it must cost no more than on the default one (the same
 * number of spp-ctl requests, the same time within noise).
 */
import type { ComponentDecl } from '../../src/protocol/configuration';
import { coreMaskBits, parseMappings } from '../../src/protocol/mappings';
import type { DeclaredLayouts } from '../../src/setup/build';
import { type BenchEnv, BenchHost, benchMappings, type HostBuild } from './harness';
import { measurePlugs } from './measure';
import type { Report } from './report';
import { summarize } from './stats';

/** Classifier straight to the vhosts, merger straight from them, on each NIC's first two worker cores. */
export function noForwarderLayouts(nics: number, vhosts: number): DeclaredLayouts {
  const parsed = parseMappings(benchMappings(nics, vhosts), { beyondRealLimits: true }).configuration!;
  let next = 0;
  return {
    vf: parsed.map((nic, i): ComponentDecl[] => {
      const cores = coreMaskBits(nic.core_mask)!.occupied;
      const ports = Array.from({ length: nic.num_vhost }, () => `vhost:${next++}`);
      return [
        { core: cores[0]!, name: 'classifier', type: 'classifier_mac', rx_port: [`phy:${i}`], tx_port: ports },
        { core: cores[1]!, name: 'merger', type: 'merge', rx_port: ports, tx_port: [`phy:${i}`] },
      ];
    }),
  };
}

export async function benchLayouts(env: BenchEnv, report: Report, runs: { flat: number; vlan: number }): Promise<void> {
  const measure = async (label: string, build: HostBuild) => {
    const host = await BenchHost.start(env, { nics: 1, vhosts: 2, label, build });
    try {
      await host.spawnAgent();
      return { flat: await measurePlugs(host, runs.flat), vlan: await measurePlugs(host, runs.vlan, { vlan: true }) };
    } finally {
      await host.close();
    }
  };
  const def = await measure('layout-default', { format: 'final' });
  const nofwd = await measure('layout-nofwd', { format: 'final', declared: noForwarderLayouts(1, 2) });
  // noise: run-to-run spread of these medians on a shared 2-core machine is about 20 % or 0.3 ms
  const withinNoise = (a: number, b: number): boolean => a <= b * 1.2 + 0.3;
  for (const kind of ['flat', 'vlan'] as const) {
    const d = report.samples(`plug.${kind}.layout_default`, 'ms', def[kind].plug, { note: 'final format, default layout (forward_<v>_tx as merge)' }).median;
    const n = report.samples(`plug.${kind}.layout_no_forwarders`, 'ms', nofwd[kind].plug, { note: "upstream's example 2: no forwarders" }).median;
    const rd = summarize(def[kind].requestsPerPlug).median;
    const rn = summarize(nofwd[kind].requestsPerPlug).median;
    report.goal(
      `plug.${kind} on the no-forwarder layout costs no more than on the default one`,
      rn <= rd && withinNoise(n, d),
      `${n.toFixed(2)} ms and ${rn} spp-ctl requests vs ${d.toFixed(2)} ms and ${rd} on the default layout`,
    );
  }
}
