/**
 * The planner: (desired, observed) -> spp-ctl commands. Pure; the daemon,
 * the replay tool and the visualizer all run it. A plan is the difference
 * between the two states, so running it twice, or after a crash half-way,
 * sends nothing that is already done.
 */
import type { SppCommand } from '../sppctl/commands';
import type { NicLayout } from '../protocol/layout';
import { componentNames, portNames } from '../protocol/layout';
import { NO_VLAN, VfStatus, VlanSetting } from '../sppctl/wire';
import { ClassifierRule, VhostObserved, findComponent, observeVhost, sameRule, sameVlan } from './observed';

/** What one vhost should carry: the plugged port's MAC and, on a VLAN network, its VLAN id. */
export type VhostDesired = ClassifierRule;

/** The two VLAN port settings a vhost needs (spec: VLAN plug steps 1 and 2). */
export function vlanSettingsFor(desired: VhostDesired | undefined): { fromVm: VlanSetting; toVm: VlanSetting } {
  if (desired?.vlan === undefined) return { fromVm: NO_VLAN, toVm: NO_VLAN };
  return { fromVm: { operation: 'add', id: desired.vlan, pcp: 0 }, toVm: { operation: 'del', id: 0, pcp: 0 } };
}

function attachVlan(setting: VlanSetting): Extract<SppCommand, { op: 'port_attach' }>['vlan'] {
  if (setting.operation === 'add') return { operation: 'add', id: setting.id, pcp: setting.pcp };
  if (setting.operation === 'del') return { operation: 'del' };
  return undefined;
}

function attach(secId: number, component: string, port: string, dir: 'rx' | 'tx', setting: VlanSetting): SppCommand {
  const vlan = attachVlan(setting);
  return { op: 'port_attach', secId, component, port, dir, ...(vlan ? { vlan } : {}) };
}

/**
 * Components and port attachments of the NIC's layout that the vf lacks, in
 * layout order: every missing component first, then every missing port. A
 * port is attached with the VLAN setting its vhost wants, so a rebuild after
 * an spp_vf restart needs no detach/re-attach afterwards.
 */
export function planLayout(nic: NicLayout, status: VfStatus, desired: ReadonlyMap<number, VhostDesired> = new Map()): SppCommand[] {
  const starts: SppCommand[] = [];
  const attaches: SppCommand[] = [];
  const settingOf = (port: string, dir: 'rx' | 'tx'): VlanSetting => {
    for (const v of nic.vhostIds) {
      const want = vlanSettingsFor(desired.get(v));
      if (dir === 'rx' && port === portNames.vhost(v)) return want.fromVm;
      if (dir === 'tx' && port === portNames.toVm(v)) return want.toVm;
    }
    return NO_VLAN;
  };
  for (const spec of nic.components) {
    const running = findComponent(status, spec.name);
    if (!running) starts.push({ op: 'component_start', secId: nic.secId, name: spec.name, core: spec.core, type: spec.type });
    for (const [dir, ports] of [['rx', spec.rx], ['tx', spec.tx]] as const) {
      const have = new Set((dir === 'rx' ? running?.rx_port : running?.tx_port)?.map((p) => p.port) ?? []);
      for (const port of ports) if (!have.has(port)) attaches.push(attach(nic.secId, spec.name, port, dir, settingOf(port, dir)));
    }
  }
  return [...starts, ...attaches];
}

/** Components the vf runs that do not belong to the layout (reported, never stopped: the operator may own them). */
export function foreignComponents(nic: NicLayout, status: VfStatus): string[] {
  const ours = new Set(nic.components.map((c) => c.name));
  return status.components.flatMap((c) => ('name' in c && !ours.has(c.name) ? [c.name] : []));
}

/**
 * Commands that make one vhost carry `desired` (undefined: carry nothing).
 * Order as the original agent's plug and unplug: VLAN port settings first,
 * then the classifier entry (an old entry is deleted before a new one is
 * added, since spp_vf holds one entry per ring).
 */
export function planVhost(nic: NicLayout, vhostId: number, desired: VhostDesired | undefined, status: VfStatus): SppCommand[] {
  return planVhostFrom(nic.secId, vhostId, desired, observeVhost(status, vhostId));
}

export function planVhostFrom(secId: number, vhostId: number, desired: VhostDesired | undefined, observed: VhostObserved): SppCommand[] {
  const cmds: SppCommand[] = [];
  const want = vlanSettingsFor(desired);
  const fix = (component: string, port: string, dir: 'rx' | 'tx', have: VlanSetting | undefined, setting: VlanSetting): void => {
    // a port that is not attached at all is the layout's to attach (planLayout)
    if (have === undefined || sameVlan(have, setting)) return;
    cmds.push({ op: 'port_detach', secId, component, port, dir });
    cmds.push(attach(secId, component, port, dir, setting));
  };
  fix(componentNames.forwardRx(vhostId), portNames.vhost(vhostId), 'rx', observed.fromVm, want.fromVm);
  fix(componentNames.classifier, portNames.toVm(vhostId), 'tx', observed.toVm, want.toVm);
  if (!sameRule(observed.rule, desired)) {
    const port = portNames.toVm(vhostId);
    if (observed.rule) cmds.push({ op: 'classifier_del', secId, port, mac: observed.rule.mac, ...vlanField(observed.rule.vlan) });
    if (desired) cmds.push({ op: 'classifier_add', secId, port, mac: desired.mac, ...vlanField(desired.vlan) });
  }
  return cmds;
}

function vlanField(vlan: number | undefined): { vlan?: number } {
  return vlan === undefined ? {} : { vlan };
}
