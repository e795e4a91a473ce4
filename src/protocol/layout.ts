/**
 * The spp_vf component layout the agent builds for each NIC, and where each
 * vhost's plug touches it. The layout is the NIC's declared `components`
 * (final configuration) or the default the set-up scripts compute; the plug
 * targets follow from the component graph as networking-spp's final agent
 * finds them (`build_vhosts`), so one rule serves the c33920f layout, the
 * final default and declared layouts (shared cores, no forwarders).
 */
import type { ComponentDecl, ConfigFormat, HostConfiguration, NicEntry } from './configuration';
import { coreMaskBits, occupiedCoresNeeded } from './mappings';

export type ComponentType = 'forward' | 'merge' | 'classifier_mac';
export const COMPONENT_TYPES: readonly ComponentType[] = ['forward', 'merge', 'classifier_mac'];

export interface ComponentSpec {
  readonly name: string;
  readonly type: ComponentType;
  readonly core: number;
  readonly rx: readonly string[];
  readonly tx: readonly string[];
}

/** A port of a component, in the direction the target's use implies. */
export interface PortTarget {
  readonly component: string;
  readonly port: string;
}

/** Where a plug of one vhost acts (spec upstream-final §1a/§1b). */
export interface VhostTargets {
  /** The classifier tx port whose table entry sends the port's MAC to the VM (ring:2v, or vhost:v without forwarders). */
  readonly entryPort: string;
  /** tx port that gets `del_vlantag` on a VLAN network: the entry port on the classifier. */
  readonly untag: PortTarget;
  /** rx port that gets `add_vlantag` on a VLAN network. */
  readonly tag: PortTarget;
}

export interface VhostTargetsOf extends VhostTargets {
  readonly vhostId: number;
}

export interface NicLayout {
  /** DPDK port order index: the NIC is phy:<index>. */
  readonly index: number;
  /** spp_vf secondary (client) id. */
  readonly secId: number;
  readonly nic: NicEntry;
  readonly vhostIds: readonly number[];
  readonly masterCore: number;
  readonly components: readonly ComponentSpec[];
  /** True when the configuration declares the components (final format), false for the computed c33920f default. */
  readonly declared: boolean;
  /** Plug targets of each vhost, in vhost order (an array, so that JSON views show them). */
  readonly targets: readonly VhostTargetsOf[];
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

/** The vhost ids of each NIC: numbered across the host, NIC after NIC. */
export function vhostRanges(config: readonly { readonly num_vhost: number }[]): number[][] {
  let next = 0;
  return config.map((nic) => Array.from({ length: nic.num_vhost }, () => next++));
}

/**
 * The default layout as the set-up scripts compute it (`conf_components`,
 * unchanged from c33920f's agent): two forwarders per vhost, classifier,
 * merger, on the mask's worker cores in ascending order. Throws when the
 * mask has too few cores.
 */
export function defaultComponents(index: number, nic: Pick<NicEntry, 'pci_address' | 'core_mask'>, vhostIds: readonly number[]): ComponentDecl[] {
  const bits = coreMaskBits(nic.core_mask);
  const need = occupiedCoresNeeded(vhostIds.length);
  if (bits === undefined || bits.occupied.length < need) {
    throw new Error(`NIC ${index} (${nic.pci_address}): core mask ${nic.core_mask} has fewer than the ${need} occupied cores its layout needs`);
  }
  const cores = [...bits.occupied];
  const out: ComponentDecl[] = [];
  for (const v of vhostIds) {
    out.push({ core: cores.shift()!, type: 'forward', name: componentNames.forwardTx(v), rx_port: [portNames.toVm(v)], tx_port: [portNames.vhost(v)] });
    out.push({ core: cores.shift()!, type: 'forward', name: componentNames.forwardRx(v), rx_port: [portNames.vhost(v)], tx_port: [portNames.fromVm(v)] });
  }
  out.push({
    core: cores.shift()!,
    type: 'classifier_mac',
    name: componentNames.classifier,
    rx_port: [portNames.phy(index)],
    tx_port: vhostIds.map(portNames.toVm),
  });
  out.push({ core: cores.shift()!, type: 'merge', name: componentNames.merger, rx_port: vhostIds.map(portNames.fromVm), tx_port: [portNames.phy(index)] });
  return out;
}

/** The NICs with `components` filled in where absent, as the final set-up script writes them. */
export function withDefaultComponents(config: HostConfiguration): HostConfiguration {
  const ranges = vhostRanges(config);
  return config.map((nic, i) => (nic.components ? nic : { ...nic, components: defaultComponents(i, nic, ranges[i]!) }));
}

const isVhost = (p: string): boolean => p.startsWith('vhost:');

/**
 * The components the agent starts. The final agent starts every forward that
 * feeds a vhost as `merge` (so TaaS can add rx rings); c33920f starts them as
 * declared.
 */
export function effectiveComponents(decls: readonly ComponentDecl[], format: ConfigFormat): ComponentSpec[] {
  return decls.map((d) => ({
    name: d.name,
    type: (format === 'final' && d.type === 'forward' && d.tx_port.some(isVhost) ? 'merge' : d.type) as ComponentType,
    core: d.core,
    rx: d.rx_port,
    tx: d.tx_port,
  }));
}

/**
 * Plug targets of `vhostId` from the declared graph (types as declared, before
 * the final agent's forward-to-merge change), or a message saying why there
 * are none. `tagAtMerger`: the final agent's rule (the tag goes on the ring
 * the forwarder feeds into the merger); otherwise on vhost:v itself.
 */
export function vhostTargets(decls: readonly ComponentDecl[], vhostId: number, tagAtMerger: boolean): VhostTargets | string {
  const vhost = portNames.vhost(vhostId);
  const feeder = decls.find((c) => c.tx_port.includes(vhost));
  const drain = decls.find((c) => c.rx_port.includes(vhost));
  if (!feeder) return `no component has ${vhost} in tx_port`;
  if (!drain) return `no component has ${vhost} in rx_port`;
  let untag: PortTarget;
  if (feeder.type === 'forward') {
    const ring = feeder.rx_port[0];
    const classifier = ring === undefined ? undefined : decls.find((c) => c.tx_port.includes(ring));
    if (ring === undefined || !classifier) return `${feeder.name} feeds ${vhost}, but no component sends into its rx_port ${ring ?? '(none)'}`;
    untag = { component: classifier.name, port: ring };
  } else {
    untag = { component: feeder.name, port: vhost };
  }
  let tag: PortTarget = { component: drain.name, port: vhost };
  if (tagAtMerger && drain.type === 'forward') {
    const ring = drain.tx_port[0];
    const merger = ring === undefined ? undefined : decls.find((c) => c.rx_port.includes(ring));
    if (ring === undefined || !merger) return `${drain.name} drains ${vhost}, but no component takes its tx_port ${ring ?? '(none)'}`;
    tag = { component: merger.name, port: ring };
  }
  return { entryPort: untag.port, untag, tag };
}

/** The layout of one NIC; throws when its vhosts have no plug targets (a declared layout that failed validation). */
export function nicLayout(index: number, nic: NicEntry, vhostIds: readonly number[], format: ConfigFormat): NicLayout {
  const bits = coreMaskBits(nic.core_mask);
  if (bits === undefined) throw new Error(`NIC ${index} (${nic.pci_address}): core mask ${nic.core_mask} selects no core`);
  const decls = nic.components ?? defaultComponents(index, nic, vhostIds);
  const targets = vhostIds.map((v): VhostTargetsOf => {
    const tg = vhostTargets(decls, v, format === 'final');
    if (typeof tg === 'string') throw new Error(`NIC ${index} (${nic.pci_address}): vhost ${v}: ${tg}`);
    return { vhostId: v, ...tg };
  });
  return {
    index,
    secId: index + 1,
    nic,
    vhostIds,
    masterCore: bits.master,
    components: effectiveComponents(decls, format),
    declared: nic.components !== undefined,
    targets,
  };
}

/**
 * The layout of every NIC. `format` decides whose agent's layout it is:
 * legacy is c33920f's (forwarders as declared, VLAN tag on vhost:v), final
 * is 0170ff7's (vhost-feeding forwarders as merge, tag at the merger).
 */
export function hostLayout(config: HostConfiguration, format: ConfigFormat = 'legacy'): NicLayout[] {
  const ranges = vhostRanges(config);
  return config.map((nic, index) => nicLayout(index, nic, ranges[index]!, format));
}

/** The NIC that serves a vhost id, if any. */
export function nicOfVhost(layout: readonly NicLayout[], vhostId: number): NicLayout | undefined {
  return layout.find((n) => n.vhostIds.includes(vhostId));
}

/** The plug targets of a vhost of `nic`; throws for a vhost the NIC does not serve (a caller's bug). */
export function targetsOf(nic: NicLayout, vhostId: number): VhostTargets {
  const tg = nic.targets.find((x) => x.vhostId === vhostId);
  if (!tg) throw new Error(`vhost ${vhostId} is not served by NIC ${nic.index}`);
  return tg;
}
