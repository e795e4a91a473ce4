/**
 * What the agent should do for a port, derived from its etcd keys alone
 * (level-triggered: the same keys always give the same intent, whichever
 * event just arrived). Pure.
 */

import type { StoredValue } from '../etcd/events';
import type { PortIntent, VhostPlace } from '../plan/desired';
import type { ClassifierRule } from '../plan/observed';
import { Action, BindPort, type Decoded, decodeJson, decodeText, vlanOf } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import type { NicLayout } from '../protocol/layout';
import { nicOfVhost } from '../protocol/layout';
import type { PortKeys, VhostKey } from './host-state';

export interface HostFacts {
  readonly host: string;
  readonly layout: readonly NicLayout[];
  readonly vhosts: ReadonlyMap<number, VhostKey>;
}

export function intentOf(port: PortKeys, facts: HostFacts): PortIntent {
  if (!port.action) return { kind: 'idle', note: port.bindPort ? 'bind_port present, waiting for action' : 'no action' };
  const actionKey = keys.action(port.host, port.portId);
  const action = decodeText(Action, actionKey, port.action.value);
  if (!action.ok) return { kind: 'invalid', reason: action.error };
  const bindKey = keys.bindPort(port.host, port.portId);
  if (!port.bindPort) {
    return action.value === 'plug' ? { kind: 'idle', note: 'action plug without bind_port, waiting for bind_port' } : { kind: 'unplug' };
  }
  const bind = decodeBindPort(bindKey, port.bindPort);
  const placed = bind.ok ? placeOf(bind.value, facts, bindKey) : bind;
  if (action.value === 'unplug') {
    return placed.ok && bind.ok ? { kind: 'unplug', place: placed.value, rule: ruleOf(bind.value) } : { kind: 'unplug' };
  }
  if (!bind.ok) return { kind: 'invalid', reason: bind.error };
  if (!placed.ok) return { kind: 'invalid', reason: placed.error };
  const owner = facts.vhosts.get(placed.value.vhostId)?.owner;
  if (owner?.ok && !owner.value.free && owner.value.portId !== port.portId) {
    return { kind: 'invalid', reason: `${bindKey}: vhost ${placed.value.vhostId} is claimed by port ${owner.value.portId} in ${placed.value.vhostKey}` };
  }
  return { kind: 'plug', place: placed.value, rule: ruleOf(bind.value) };
}

/**
 * bind_port values decoded, by stored value (a put replaces the object): a
 * port's intent is derived again whenever any vhost key of its host changes.
 */
const decodedBindPorts = new WeakMap<StoredValue, { readonly key: string; readonly decoded: Decoded<BindPort> }>();

function decodeBindPort(key: string, stored: StoredValue): Decoded<BindPort> {
  const known = decodedBindPorts.get(stored);
  if (known?.key === key) return known.decoded;
  const decoded = decodeJson(BindPort, key, stored.value);
  decodedBindPorts.set(stored, { key, decoded });
  return decoded;
}

function ruleOf(bind: BindPort): ClassifierRule {
  const vlan = vlanOf(bind);
  return vlan === undefined ? { mac: bind.mac_address.toLowerCase() } : { mac: bind.mac_address.toLowerCase(), vlan };
}

function placeOf(bind: BindPort, facts: HostFacts, bindKey: string): { ok: true; value: VhostPlace } | { ok: false; error: string } {
  const nic = nicOfVhost(facts.layout, bind.vhost_id);
  if (!nic) {
    const all = facts.layout.flatMap((n) => n.vhostIds);
    return { ok: false, error: `${bindKey}: field vhost_id: vhost ${bind.vhost_id} is not on host ${facts.host} (its vhosts are ${all.join(', ') || 'none'})` };
  }
  const vhostKey = facts.vhosts.get(bind.vhost_id)?.key;
  return { ok: true, value: { vhostId: bind.vhost_id, secId: nic.secId, ...(vhostKey ? { vhostKey } : {}) } };
}

/**
 * Two ports that both want one vhost: the one its vhost key names keeps it;
 * if the key names neither, both are refused rather than fight over spp_vf.
 */
export function resolveConflicts(intents: ReadonlyMap<string, PortIntent>, facts: HostFacts): Map<string, PortIntent> {
  const byVhost = new Map<number, string[]>();
  for (const [portId, intent] of intents) {
    if (intent.kind === 'plug') byVhost.set(intent.place.vhostId, [...(byVhost.get(intent.place.vhostId) ?? []), portId]);
  }
  const out = new Map(intents);
  for (const [vhostId, ports] of byVhost) {
    if (ports.length < 2) continue;
    const owner = facts.vhosts.get(vhostId)?.owner;
    const ownerId = owner?.ok && !owner.value.free ? owner.value.portId : undefined;
    for (const p of ports) {
      if (p === ownerId) continue;
      out.set(p, { kind: 'invalid', reason: `vhost ${vhostId} is wanted by ports ${ports.join(', ')}; its vhost key names ${ownerId ?? 'none of them'}` });
    }
  }
  return out;
}
