/**
 * Desired vs observed for each port, row by row, with the planner's own
 * notion of "the same", so the page highlights exactly what the next plan
 * would change. Pure.
 */
import type { ControllerView, PortView } from '../agent/controller';
import { sameRule, sameVlan } from '../plan/observed';
import { vlanSettingsFor } from '../plan/planner';
import type { VlanSetting } from '../sppctl/wire';

export interface CompareRow {
  readonly field: 'classifier rule' | 'vhost rx vlan (from VM)' | 'classifier tx vlan (to VM)';
  readonly desired: string;
  readonly observed: string;
  readonly same: boolean;
}

/** A view as the page receives it: the controller's view plus the comparison of every port. */
export interface PageView extends ControllerView {
  readonly compare: Readonly<Record<string, readonly CompareRow[]>>;
  /** The agent machine's state, when serving a running agent. */
  readonly agentState?: string;
}

export function comparePort(port: PortView): CompareRow[] {
  const intent = port.intent;
  // Only plug and unplug name a vhost; for the other intents there is nothing to hold the observation against.
  if (intent.kind !== 'plug' && !(intent.kind === 'unplug' && intent.place)) return [];
  const desired = intent.kind === 'plug' ? intent.rule : undefined;
  const observed = port.observed;
  if (observed === undefined) {
    // Not observed yet (no run finished): show desired only, nothing to call different.
    return [];
  }
  const vlan = vlanSettingsFor(desired);
  const attached = (s: VlanSetting | undefined): string => (s === undefined ? 'not attached' : vlanText(s));
  return [
    { field: 'classifier rule', desired: ruleText(desired), observed: ruleText(observed.rule), same: sameRule(desired, observed.rule) },
    {
      field: 'vhost rx vlan (from VM)',
      desired: vlanText(vlan.fromVm),
      observed: attached(observed.fromVm),
      same: observed.fromVm !== undefined && sameVlan(vlan.fromVm, observed.fromVm),
    },
    {
      field: 'classifier tx vlan (to VM)',
      desired: vlanText(vlan.toVm),
      observed: attached(observed.toVm),
      same: observed.toVm !== undefined && sameVlan(vlan.toVm, observed.toVm),
    },
  ];
}

export function pageView(view: ControllerView): PageView {
  return { ...view, compare: Object.fromEntries(view.ports.map((p) => [p.portId, comparePort(p)])) };
}

function ruleText(rule: { mac: string; vlan?: number } | undefined): string {
  if (!rule) return 'none';
  return rule.vlan === undefined ? `mac ${rule.mac}` : `vlan ${rule.vlan} mac ${rule.mac}`;
}

function vlanText(s: VlanSetting): string {
  return s.operation === 'add' ? `add id ${s.id} pcp ${s.pcp}` : s.operation;
}
