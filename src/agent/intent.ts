/**
 * What the agent should do for a port, derived from its etcd keys alone
 * (level-triggered: the same keys always give the same intent, whichever
 * event just arrived). Pure.
 */

import type { StoredValue } from '../etcd/events';
import type { InvalidCause, PortIntent, VhostPlace } from '../plan/desired';
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
  /** port id -> the vhosts whose key names it (HostStore.claims()). */
  readonly claims: ReadonlyMap<string, readonly number[]>;
}

/**
 * Intents derived, by the port's keys object: every sync derives the intent
 * of every port of the host, and HostStore hands out the same keys object
 * (and the same vhosts and claims maps) until one of them changes, so a port
 * whose inputs are the same objects gets the intent it got before. Without
 * it a burst of N ports' events derived N intents per batch of events.
 */
const derived = new WeakMap<PortKeys, { readonly facts: HostFacts; readonly intent: PortIntent }>();

export function intentOf(port: PortKeys, facts: HostFacts): PortIntent {
  const known = derived.get(port);
  if (known && sameFacts(known.facts, facts)) return known.intent;
  const intent = deriveIntent(port, facts);
  derived.set(port, { facts, intent });
  return intent;
}

const sameFacts = (a: HostFacts, b: HostFacts): boolean => a.host === b.host && a.layout === b.layout && a.vhosts === b.vhosts && a.claims === b.claims;

function deriveIntent(port: PortKeys, facts: HostFacts): PortIntent {
  if (!port.action) return { kind: 'idle', note: port.bindPort ? 'bind_port present, waiting for action' : 'no action' };
  const action = decodeAction(port, port.action);
  if (!action.ok) return { kind: 'invalid', reason: action.error, cause: 'input' };
  const bindKey = keys.bindPort(port.host, port.portId);
  if (!port.bindPort) {
    return action.value === 'plug' ? { kind: 'idle', note: 'action plug without bind_port, waiting for bind_port' } : { kind: 'unplug' };
  }
  const bind = decodeBindPort(bindKey, port.bindPort);
  const claimed = facts.claims.get(port.portId) ?? [];
  if (action.value === 'unplug') {
    if (!bind.ok) return { kind: 'unplug' };
    // the vhost to clear and free is the one the port claimed: the unplug of a bind_port naming another must not leak the claim
    const vhostId = claimed.includes(bind.value.vhost_id) ? bind.value.vhost_id : (claimed[0] ?? bind.value.vhost_id);
    const placed = placeOf({ ...bind.value, vhost_id: vhostId }, facts, bindKey);
    return placed.ok ? { kind: 'unplug', place: placed.value, rule: ruleOf(bind.value) } : { kind: 'unplug' };
  }
  if (!bind.ok) return { kind: 'invalid', reason: bind.error, cause: 'input' };
  const placed = placeOf(bind.value, facts, bindKey);
  if (!placed.ok) return { kind: 'invalid', reason: placed.error, cause: 'input' };
  const notClaimed = claimProblem(port.portId, placed.value.vhostId, bindKey, claimed, facts);
  if (notClaimed) return { kind: 'invalid', ...notClaimed };
  return { kind: 'plug', place: placed.value, rule: ruleOf(bind.value) };
}

/**
 * Why the port may not plug on vhost `vhostId` its bind_port names: a port
 * plugs only on the vhost its claim (the vhost key naming it) names, so
 * that unplugging it frees what it holds. Names both keys.
 */
function claimProblem(
  portId: string,
  vhostId: number,
  bindKey: string,
  claimed: readonly number[],
  facts: HostFacts,
): { reason: string; cause: InvalidCause } | undefined {
  if (claimed.includes(vhostId)) return undefined;
  const vhost = facts.vhosts.get(vhostId);
  if (vhost && !vhost.owner.ok)
    return {
      reason: `${bindKey}: names vhost ${vhostId}, whose key is invalid (${vhost.owner.error}); a port plugs only on the vhost it claimed`,
      cause: 'input',
    };
  const mine = claimed.map((id) => facts.vhosts.get(id)?.key ?? `vhost ${id}`);
  if (vhost?.owner.ok && !vhost.owner.value.free) {
    const own = mine.length > 0 ? `; port ${portId} claimed ${mine.join(', ')}` : '';
    return { reason: `${bindKey}: vhost ${vhostId} is claimed by port ${vhost.owner.value.portId} in ${vhost.key}${own}`, cause: 'vhost-claimed' };
  }
  const where = vhost ? `${vhost.key} is "None"` : `no vhost key exists for vhost ${vhostId}`;
  const reason =
    mine.length > 0
      ? `${bindKey}: names vhost ${vhostId}, but port ${portId} claimed ${mine.join(', ')} (${where}); a port plugs only on the vhost its claim names`
      : `${bindKey}: names vhost ${vhostId}, but port ${portId} claimed no vhost (${where}); a port plugs only on the vhost its claim names`;
  return { reason, cause: 'input' };
}

/** action values decoded, by stored value, as bind_port's below: every port's intent is derived on every event of its host. */
const decodedActions = new WeakMap<StoredValue, { readonly host: string; readonly portId: string; readonly decoded: Decoded<Action> }>();

function decodeAction(port: PortKeys, stored: StoredValue): Decoded<Action> {
  const known = decodedActions.get(stored);
  if (known?.portId === port.portId && known.host === port.host) return known.decoded;
  const decoded = decodeText(Action, keys.action(port.host, port.portId), stored.value);
  decodedActions.set(stored, { host: port.host, portId: port.portId, decoded });
  return decoded;
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
 * Without such a pair, `intents` itself (it runs on every event: no copy).
 */
export function resolveConflicts(intents: Map<string, PortIntent>, facts: HostFacts): Map<string, PortIntent> {
  const byVhost = new Map<number, string[]>();
  for (const [portId, intent] of intents) {
    if (intent.kind !== 'plug') continue;
    const ports = byVhost.get(intent.place.vhostId);
    if (ports) ports.push(portId);
    else byVhost.set(intent.place.vhostId, [portId]);
  }
  let out: Map<string, PortIntent> | undefined;
  for (const [vhostId, ports] of byVhost) {
    if (ports.length < 2) continue;
    out ??= new Map(intents);
    const owner = facts.vhosts.get(vhostId)?.owner;
    const ownerId = owner?.ok && !owner.value.free ? owner.value.portId : undefined;
    for (const p of ports) {
      if (p === ownerId) continue;
      out.set(p, {
        kind: 'invalid',
        reason: `vhost ${vhostId} is wanted by ports ${ports.join(', ')}; its vhost key names ${ownerId ?? 'none of them'}`,
        cause: 'vhost-claimed',
      });
    }
  }
  return out ?? intents;
}
