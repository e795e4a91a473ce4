/**
 * What a vf status says about the parts the agent owns, and how a successful
 * command changes that status. Keeping the status current from command
 * results is what lets the agent skip a GET (one second on a real spp_vf)
 * before every command.
 */

import type { VhostTargets } from '../protocol/layout';
import type { SppCommand } from '../sppctl/commands';
import {
  type ClassifierEntry,
  type CoreStatus,
  isRunning,
  NO_VLAN,
  type PortAttachment,
  type RunningComponent,
  type VfStatus,
  type VlanSetting,
} from '../sppctl/wire';

/** A classifier entry in the agent's terms: the MAC (lower case) and, for a VLAN network, the VLAN id. */
export interface ClassifierRule {
  readonly mac: string;
  readonly vlan?: number;
}

/** The observed state of one vhost's classifier entry and VLAN settings. */
export interface VhostObserved {
  readonly rule?: ClassifierRule;
  /** VLAN setting of the tag target (rx: vhost:<v> of forward_<v>_rx, or ring:<2v+1> of the merger); undefined when not attached. */
  readonly fromVm?: VlanSetting;
  /** VLAN setting of the untag target (tx: ring:<2v> of the classifier, or vhost:<v> without forwarders); undefined when not attached. */
  readonly toVm?: VlanSetting;
}

export function findComponent(status: VfStatus, name: string): RunningComponent | undefined {
  return status.components.find((c): c is RunningComponent => isRunning(c) && c.name === name);
}

function attachment(list: readonly PortAttachment[] | undefined, port: string): VlanSetting | undefined {
  return list?.find((p) => p.port === port)?.vlan;
}

/** Parses a classifier_table entry value: `12:AB:..` or `100/12:AB:..`; undefined for `default`. */
export function ruleOfEntry(entry: ClassifierEntry): ClassifierRule | undefined {
  const [vlanPart, macPart] = entry.value.includes('/') ? entry.value.split('/', 2) : [undefined, entry.value];
  if (macPart === undefined || macPart === 'default') return undefined;
  const mac = macPart.toLowerCase();
  return vlanPart === undefined ? { mac } : { mac, vlan: Number(vlanPart) };
}

/** What the vf shows at a vhost's plug targets. */
export function observeVhost(status: VfStatus, targets: VhostTargets): VhostObserved {
  const entry = status.classifier_table.find((e) => e.port === targets.entryPort);
  const rule = entry ? ruleOfEntry(entry) : undefined;
  return {
    ...(rule ? { rule } : {}),
    ...optional('fromVm', attachment(findComponent(status, targets.tag.component)?.rx_port, targets.tag.port)),
    ...optional('toVm', attachment(findComponent(status, targets.untag.component)?.tx_port, targets.untag.port)),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function sameRule(a: ClassifierRule | undefined, b: ClassifierRule | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.mac.toLowerCase() === b.mac.toLowerCase() && a.vlan === b.vlan;
}

export function sameVlan(a: VlanSetting, b: VlanSetting): boolean {
  return a.operation === b.operation && (a.operation !== 'add' || (a.id === b.id && a.pcp === b.pcp));
}

const PORT_TYPE_ORDER = ['phy', 'vhost', 'ring'];

/** Port names are few (phy/vhost/ring and a number) and sorted on every attach: their keys are kept, up to a bound. */
const sortKeys = new Map<string, readonly [number, number]>();

function portSortKey(port: string): readonly [number, number] {
  let key = sortKeys.get(port);
  if (key === undefined) {
    const [type, n] = port.split(':');
    key = [PORT_TYPE_ORDER.indexOf(type ?? ''), Number(n)];
    if (sortKeys.size < 4096) sortKeys.set(port, key);
  }
  return key;
}

function withPort(ports: readonly string[], port: string): string[] {
  if (ports.includes(port)) return [...ports];
  // keys computed once per port, not twice per comparison (a status holds dozens of ports)
  return [...ports, port]
    .map((p) => ({ p, k: portSortKey(p) }))
    .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1])
    .map((x) => x.p);
}

function updateComponent(status: VfStatus, name: string, f: (c: RunningComponent) => RunningComponent): VfStatus {
  return { ...status, components: status.components.map((c) => (isRunning(c) && c.name === name ? f(c) : c)) };
}

function vlanSettingOf(cmd: Extract<SppCommand, { op: 'port_attach' }>): VlanSetting {
  if (cmd.vlan?.operation === 'add') return { operation: 'add', id: cmd.vlan.id, pcp: cmd.vlan.pcp };
  if (cmd.vlan?.operation === 'del') return { operation: 'del', id: 0, pcp: 0 };
  return NO_VLAN;
}

/** The status after `cmd` succeeded (spp_vf's own bookkeeping, as far as status shows it). */
export function applyCommand(status: VfStatus, cmd: SppCommand): VfStatus {
  switch (cmd.op) {
    case 'component_start': {
      const fresh: CoreStatus = { core: cmd.core, name: cmd.name, type: cmd.type, rx_port: [], tx_port: [] };
      const onCore = status.components.filter((c) => c.core === cmd.core && isRunning(c));
      const others = status.components.filter((c) => c.core !== cmd.core);
      const components = [...others, ...onCore, fresh].sort((a, b) => a.core - b.core);
      return { ...status, components };
    }
    case 'component_stop': {
      const victim = findComponent(status, cmd.name);
      if (!victim) return status;
      const rest = status.components.filter((c) => c !== victim);
      const coreEmpty = !rest.some((c) => c.core === victim.core);
      const components = coreEmpty ? [...rest, { core: victim.core, type: 'unuse' as const }].sort((a, b) => a.core - b.core) : rest;
      return { ...status, components };
    }
    case 'port_attach': {
      const key = cmd.dir === 'rx' ? 'rx_port' : 'tx_port';
      const next = updateComponent(status, cmd.component, (c) => ({ ...c, [key]: [...c[key], { port: cmd.port, vlan: vlanSettingOf(cmd) }] }));
      return { ...next, ports: withPort(next.ports, cmd.port) };
    }
    case 'port_detach': {
      const key = cmd.dir === 'rx' ? 'rx_port' : 'tx_port';
      return updateComponent(status, cmd.component, (c) => ({ ...c, [key]: c[key].filter((p) => p.port !== cmd.port) }));
    }
    case 'classifier_add': {
      const mac = cmd.mac.toUpperCase();
      const entry: ClassifierEntry =
        cmd.vlan === undefined ? { type: 'mac', value: mac, port: cmd.port } : { type: 'vlan', value: `${cmd.vlan}/${mac}`, port: cmd.port };
      return { ...status, classifier_table: [...status.classifier_table.filter((e) => e.port !== cmd.port), entry] };
    }
    case 'classifier_del':
      return { ...status, classifier_table: status.classifier_table.filter((e) => e.port !== cmd.port) };
  }
}

/** The status of a vf that runs nothing yet (after start or restart), for a set of worker cores. */
export function emptyStatus(secId: number, workerCores: readonly number[], phyPorts: readonly string[] = []): VfStatus {
  return {
    'client-id': secId,
    ports: [...phyPorts],
    components: [...workerCores].sort((a, b) => a - b).map((core) => ({ core, type: 'unuse' as const })),
    classifier_table: [],
  };
}
