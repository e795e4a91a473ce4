/**
 * The spp_vf component layout the agent builds for each NIC (spec: "spp_vf
 * layout"), derived from the host configuration alone.
 */
import type { HostConfiguration, NicConfig } from './codecs';
import { coreMaskBits, occupiedCoresNeeded } from './mappings';

export type ComponentType = 'forward' | 'merge' | 'classifier_mac';

export interface ComponentSpec {
  readonly name: string;
  readonly type: ComponentType;
  readonly core: number;
  readonly rx: readonly string[];
  readonly tx: readonly string[];
}

export interface NicLayout {
  /** DPDK port order index: the NIC is phy:<index>. */
  readonly index: number;
  /** spp_vf secondary (client) id. */
  readonly secId: number;
  readonly nic: NicConfig;
  readonly vhostIds: readonly number[];
  readonly masterCore: number;
  readonly components: readonly ComponentSpec[];
}

export const portNames = {
  phy: (nicIndex: number): string => `phy:${nicIndex}`,
  vhost: (vhostId: number): string => `vhost:${vhostId}`,
  /** Ring carrying frames from the classifier to the VM. */
  toVm: (vhostId: number): string => `ring:${2 * vhostId}`,
  /** Ring carrying frames from the VM to the merger. */
  fromVm: (vhostId: number): string => `ring:${2 * vhostId + 1}`,
} as const;

export const componentNames = {
  forwardTx: (vhostId: number): string => `forward_${vhostId}_tx`,
  forwardRx: (vhostId: number): string => `forward_${vhostId}_rx`,
  classifier: 'classifier',
  merger: 'merger',
} as const;

/**
 * The layout of every NIC. The configuration must have passed
 * validateConfiguration (core counts); a NIC whose mask has too few cores
 * throws, since no layout exists for it.
 */
export function hostLayout(config: HostConfiguration): NicLayout[] {
  let nextVhost = 0;
  return config.map((nic, index) => {
    const vhostIds = Array.from({ length: nic.num_vhost }, (_, k) => nextVhost + k);
    nextVhost += nic.num_vhost;
    const bits = coreMaskBits(nic.core_mask);
    const need = occupiedCoresNeeded(nic.num_vhost);
    if (bits === undefined || bits.occupied.length < need) {
      throw new Error(`NIC ${index} (${nic.pci_address}): core mask ${nic.core_mask} has fewer than the ${need} occupied cores its layout needs`);
    }
    const cores = bits.occupied;
    const components: ComponentSpec[] = [];
    let c = 0;
    for (const v of vhostIds) {
      components.push({ name: componentNames.forwardTx(v), type: 'forward', core: cores[c++]!, rx: [portNames.toVm(v)], tx: [portNames.vhost(v)] });
      components.push({ name: componentNames.forwardRx(v), type: 'forward', core: cores[c++]!, rx: [portNames.vhost(v)], tx: [portNames.fromVm(v)] });
    }
    components.push({
      name: componentNames.classifier,
      type: 'classifier_mac',
      core: cores[c++]!,
      rx: [portNames.phy(index)],
      tx: vhostIds.map(portNames.toVm),
    });
    components.push({
      name: componentNames.merger,
      type: 'merge',
      core: cores[c++]!,
      rx: vhostIds.map(portNames.fromVm),
      tx: [portNames.phy(index)],
    });
    return { index, secId: index + 1, nic, vhostIds, masterCore: bits.master, components };
  });
}

/** The NIC that serves a vhost id, if any. */
export function nicOfVhost(layout: readonly NicLayout[], vhostId: number): NicLayout | undefined {
  return layout.find((n) => n.vhostIds.includes(vhostId));
}
