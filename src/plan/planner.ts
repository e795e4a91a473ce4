/**
 * The planner: (desired, observed) -> spp-ctl commands. Pure; the daemon,
 * the replay tool and the visualizer all run it. A plan is the difference
 * between the two states, so running it twice, or after a crash half-way,
 * sends nothing that is already done.
 */

import { type NicLayout, targetsOf, type VhostTargets } from '../protocol/layout';
import type { SppCommand } from '../sppctl/commands';
import { NO_VLAN, type VfStatus, type VlanSetting } from '../sppctl/wire';
import { layoutDrift } from './drift';
import { type ClassifierRule, findComponent, observeVhost, sameRule, sameVlan, type VhostObserved } from './observed';

/**
 * A vhost no port is plugged on: it carries no classifier entry, so no
 * traffic reaches its ring. `keep-tags` leaves its VLAN port settings as the
 * last plug made them (a later plug with the same VLAN then needs only the
 * entry); `reset-tags` puts them back to none as the original agent's unplug
 * does (--unplug-resets-vlan).
 */
export interface FreeVhost {
  readonly free: 'keep-tags' | 'reset-tags';
}

/** What one vhost should carry: the plugged port's MAC and, on a VLAN network, its VLAN id; or nothing. */
export type VhostDesired = ClassifierRule | FreeVhost;

export const FREE_KEEP_TAGS: FreeVhost = { free: 'keep-tags' };
export const FREE_RESET_TAGS: FreeVhost = { free: 'reset-tags' };

export function freeVhost(resetTags: boolean): FreeVhost {
  return resetTags ? FREE_RESET_TAGS : FREE_KEEP_TAGS;
}

export function isFree(desired: VhostDesired): desired is FreeVhost {
  return 'free' in desired;
}

/** The plugged port's rule, undefined for a free vhost. */
export function ruleOf(desired: VhostDesired): ClassifierRule | undefined {
  return isFree(desired) ? undefined : desired;
}

/** The two VLAN port settings a vhost carrying `rule` needs (spec: VLAN plug steps 1 and 2); none without a VLAN. */
export function vlanSettingsFor(rule: ClassifierRule | undefined): { fromVm: VlanSetting; toVm: VlanSetting } {
  if (rule?.vlan === undefined) return { fromVm: NO_VLAN, toVm: NO_VLAN };
  return { fromVm: { operation: 'add', id: rule.vlan, pcp: 0 }, toVm: { operation: 'del', id: 0, pcp: 0 } };
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
 * an spp_vf restart needs no detach/re-attach afterwards. Ports already
 * attached are left as they are, tags included: changing them is the plan of
 * the port that needs them changed (planVhost).
 */
export function planLayout(
  nic: NicLayout,
  status: VfStatus,
  desired: ReadonlyMap<number, VhostDesired> = new Map(),
  /** `component/port/dir` of layout ports that tap flows moved into the mirror (src/plan/tap-plan.ts movedPorts): left detached. */
  moved: ReadonlySet<string> = new Set(),
): SppCommand[] {
  const starts: SppCommand[] = [];
  const attaches: SppCommand[] = [];
  const settingOf = (component: string, port: string, dir: 'rx' | 'tx'): VlanSetting => {
    for (const tg of nic.targets) {
      const target = dir === 'rx' ? tg.tag : tg.untag;
      if (target.component !== component || target.port !== port) continue;
      const d = desired.get(tg.vhostId);
      const want = vlanSettingsFor(d && ruleOf(d));
      return dir === 'rx' ? want.fromVm : want.toVm;
    }
    return NO_VLAN;
  };
  for (const spec of nic.components) {
    const running = findComponent(status, spec.name);
    if (!running) starts.push({ op: 'component_start', secId: nic.secId, name: spec.name, core: spec.core, type: spec.type });
    for (const [dir, ports] of [
      ['rx', spec.rx],
      ['tx', spec.tx],
    ] as const) {
      const have = new Set((dir === 'rx' ? running?.rx_port : running?.tx_port)?.map((p) => p.port) ?? []);
      for (const port of ports)
        if (!have.has(port) && !moved.has(`${spec.name}/${port}/${dir}`))
          attaches.push(attach(nic.secId, spec.name, port, dir, settingOf(spec.name, port, dir)));
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
 * Commands that make one vhost carry `desired`. Order as the original
 * agent's plug and unplug: VLAN port settings first (so a flat port never
 * gets tagged traffic), then the classifier entry (an old entry is deleted
 * before a new one is added, since spp_vf holds one entry per ring). A free
 * vhost that keeps its tags needs at most the entry's removal.
 */
export function planVhost(nic: NicLayout, vhostId: number, desired: VhostDesired, status: VfStatus): SppCommand[] {
  const targets = targetsOf(nic, vhostId);
  return [...clearStaleTags(nic, vhostId, desired, status), ...planVhostFrom(nic.secId, targets, desired, observeVhost(status, targets))];
}

/**
 * A tag an agent of another layout left on this vhost's path (upgrade: c33920f
 * tagged vhost:<v> of forward_<v>_rx, the final layout tags the merger's ring)
 * would tag the port's frames twice. The vhost's own plug clears it: the port
 * being plugged is the only one it can hurt. A free vhost that keeps its tags
 * is left alone, as any free vhost.
 */
function clearStaleTags(nic: NicLayout, vhostId: number, desired: VhostDesired, status: VfStatus): SppCommand[] {
  if (isFree(desired) && desired.free === 'keep-tags') return [];
  return layoutDrift(nic, status).flatMap((d) =>
    d.kind === 'stale-tag' && d.vhostId === vhostId && d.at
      ? [
          { op: 'port_detach' as const, secId: nic.secId, component: d.at.component, port: d.at.port, dir: d.at.dir },
          { op: 'port_attach' as const, secId: nic.secId, component: d.at.component, port: d.at.port, dir: d.at.dir },
        ]
      : [],
  );
}

export function planVhostFrom(secId: number, targets: VhostTargets, desired: VhostDesired, observed: VhostObserved): SppCommand[] {
  const cmds: SppCommand[] = [];
  const rule = ruleOf(desired);
  const keepTags = isFree(desired) && desired.free === 'keep-tags';
  const want = vlanSettingsFor(rule);
  const fix = (component: string, port: string, dir: 'rx' | 'tx', have: VlanSetting | undefined, setting: VlanSetting): void => {
    // a port that is not attached at all is the layout's to attach (planLayout)
    if (keepTags || have === undefined || sameVlan(have, setting)) return;
    cmds.push({ op: 'port_detach', secId, component, port, dir });
    cmds.push(attach(secId, component, port, dir, setting));
  };
  fix(targets.tag.component, targets.tag.port, 'rx', observed.fromVm, want.fromVm);
  fix(targets.untag.component, targets.untag.port, 'tx', observed.toVm, want.toVm);
  if (!sameRule(observed.rule, rule)) {
    const port = targets.entryPort;
    if (observed.rule) cmds.push({ op: 'classifier_del', secId, port, mac: observed.rule.mac, ...vlanField(observed.rule.vlan) });
    if (rule) cmds.push({ op: 'classifier_add', secId, port, mac: rule.mac, ...vlanField(rule.vlan) });
  }
  return cmds;
}

function vlanField(vlan: number | undefined): { vlan?: number } {
  return vlan === undefined ? {} : { vlan };
}
