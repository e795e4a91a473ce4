/**
 * Desired vs observed for each port, row by row, with the planner's own
 * notion of "the same", so the page highlights exactly what the next plan
 * would change. Pure.
 */
import type { ControllerView, PortView } from '../agent/view';
import { sameRule, sameVlan } from '../plan/observed';
import { FREE_KEEP_TAGS, type FreeVhost, freeVhost, vlanSettingsFor } from '../plan/planner';
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

/** `free`: what an unplugged vhost should carry, as the agent runs (default: its tags left as they are). */
export function comparePort(port: PortView, free: FreeVhost = FREE_KEEP_TAGS): CompareRow[] {
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
  // a free vhost that keeps its tags wants no particular setting: whatever it has is the same
  const anyTags = desired === undefined && free.free === 'keep-tags';
  const attached = (s: VlanSetting | undefined): string => (s === undefined ? 'not attached' : vlanText(s));
  const tagRow = (field: CompareRow['field'], want: VlanSetting, have: VlanSetting | undefined): CompareRow =>
    anyTags
      ? { field, desired: 'left as is', observed: attached(have), same: true }
      : { field, desired: vlanText(want), observed: attached(have), same: have !== undefined && sameVlan(want, have) };
  return [
    { field: 'classifier rule', desired: ruleText(desired), observed: ruleText(observed.rule), same: sameRule(desired, observed.rule) },
    tagRow('vhost rx vlan (from VM)', vlan.fromVm, observed.fromVm),
    tagRow('classifier tx vlan (to VM)', vlan.toVm, observed.toVm),
  ];
}

export function pageView(view: ControllerView): PageView {
  const free = freeVhost(view.unplugResetsVlan === true);
  return { ...view, compare: Object.fromEntries(view.ports.map((p) => [p.portId, comparePort(p, free)])) };
}

function ruleText(rule: { mac: string; vlan?: number } | undefined): string {
  if (!rule) return 'none';
  return rule.vlan === undefined ? `mac ${rule.mac}` : `vlan ${rule.vlan} mac ${rule.mac}`;
}

function vlanText(s: VlanSetting): string {
  return s.operation === 'add' ? `add id ${s.id} pcp ${s.pcp}` : s.operation;
}
