/**
 * The protocol invariants of the /spp key space, checked over a plain
 * key/value map (a snapshot, or the replay's key space at any step). Pure:
 * the same map always gives the same list, in the same order. Every
 * violation names the keys involved so an operator can look at them.
 */
import { vlanOf } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import { groupHostViews, type HostView } from '../setup/view';

export type InvariantCode =
  | 'invalid-configuration'
  | 'missing-configuration'
  | 'invalid-value'
  | 'stray-key'
  | 'vhost-not-in-configuration'
  | 'physical-network-not-in-configuration'
  | 'vhost-key-missing'
  | 'claim-without-bind-port'
  | 'bind-port-not-owner'
  | 'vhost-claimed-twice'
  | 'port-claims-two-vhosts'
  | 'action-without-bind-port'
  | 'up-without-plug'
  | 'duplicate-mac';

export interface Violation {
  /** Undefined for keys under /spp/ that belong to no host. */
  readonly host?: string;
  readonly code: InvariantCode;
  readonly message: string;
  readonly keys: readonly string[];
}

/** Every invariant that does not hold, host by host (all hosts, or only `host`). */
export function checkInvariants(values: Readonly<Record<string, string>>, host?: string): Violation[] {
  const view = groupHostViews(values, host);
  const out: Violation[] = view.strayKeys.map((s) => ({ code: 'stray-key' as const, message: `${s.key}: ${s.error}`, keys: [s.key] }));
  for (const h of view.hosts) out.push(...checkHost(h));
  return out;
}

/** The invariants of one host's grouped view. */
export function checkHost(h: HostView): Violation[] {
  const out: Violation[] = [];
  const add = (code: InvariantCode, message: string, involved: readonly string[]): void => {
    out.push({ host: h.host, code, message, keys: [...new Set(involved)] });
  };
  const configKey = keys.configuration(h.host);
  const hasProtocolKeys = h.vhosts.length > 0 || h.ports.length > 0;

  // configuration
  const config = h.configuration;
  if (!config) {
    if (hasProtocolKeys) add('missing-configuration', `${configKey} does not exist, but the host has vhost or port keys`, [configKey]);
  } else if (!config.ok) {
    add('invalid-configuration', config.error, [configKey]);
  } else {
    const errors = h.validation?.errors ?? [];
    for (const e of errors) add('invalid-configuration', `${configKey}: ${e}`, [configKey]);
    // a layout that cannot be built restates a validation error; only say it when nothing else did
    if (h.layoutError && errors.length === 0) add('invalid-configuration', `${configKey}: ${h.layoutError}`, [configKey]);
  }
  for (const s of h.strayKeys) add('stray-key', `${s.key}: ${s.error}`, [s.key]);

  // values that do not decode
  for (const v of h.vhosts) if (!v.owner.ok) add('invalid-value', v.owner.error, [v.key]);
  // the agent's own keys: written by the agent only, so a bad value is someone else's write
  for (const e of [h.agent, h.lock]) if (e && !e.ok) add('invalid-value', e.error, [e.key]);
  for (const p of h.ports) {
    for (const e of [p.bindPort, p.action, p.portStatus]) if (e && !e.ok) add('invalid-value', e.error, [e.key]);
  }

  // vhost ids and physical networks against the configuration
  const nicOfVhost = new Map<number, { index: number; phys: string }>();
  if (config?.ok) {
    let next = 0;
    config.value.forEach((nic, index) => {
      for (let k = 0; k < nic.num_vhost; k++) nicOfVhost.set(next++, { index, phys: nic.physical_network });
    });
    const physNets = new Set(config.value.map((n) => n.physical_network));
    for (const v of h.vhosts) {
      const nic = nicOfVhost.get(v.vhostId);
      if (!physNets.has(v.phys)) {
        add('physical-network-not-in-configuration', `${v.key}: physical network ${v.phys} is not in ${configKey} (it has ${[...physNets].join(', ')})`, [
          v.key,
          configKey,
        ]);
      } else if (!nic) {
        add('vhost-not-in-configuration', `${v.key}: vhost ${v.vhostId} is not in ${configKey} (its vhosts are 0-${nicOfVhost.size - 1})`, [v.key, configKey]);
      } else if (nic.phys !== v.phys) {
        add('vhost-not-in-configuration', `${v.key}: ${configKey} puts vhost ${v.vhostId} under physical network ${nic.phys}, not ${v.phys}`, [
          v.key,
          configKey,
        ]);
      }
    }
    for (const [id, nic] of nicOfVhost) {
      if (!h.vhosts.some((v) => v.vhostId === id)) {
        const expected = keys.vhost(h.host, nic.phys, id);
        add('vhost-key-missing', `${expected} does not exist, but ${configKey} has vhost ${id} (set-up incomplete, or the key was deleted)`, [
          expected,
          configKey,
        ]);
      }
    }
  }

  // claims: vhost keys <-> bind_port
  const portById = new Map(h.ports.map((p) => [p.portId, p]));
  const claimsOf = new Map<number, Set<string>>();
  const claim = (vhostId: number, portId: string): void => {
    const s = claimsOf.get(vhostId) ?? new Set<string>();
    s.add(portId);
    claimsOf.set(vhostId, s);
  };
  for (const v of h.vhosts) {
    if (!v.owner.ok || v.owner.value.free) continue;
    const owner = v.owner.value.portId;
    claim(v.vhostId, owner);
    const bindKey = keys.bindPort(h.host, owner);
    if (!portById.get(owner)?.bindPort) {
      add('claim-without-bind-port', `${v.key} = ${owner}, but ${bindKey} does not exist (a bind in progress, or a leaked claim)`, [v.key, bindKey]);
    }
  }
  for (const p of h.ports) {
    if (p.vhostKeys.length > 1)
      add('port-claims-two-vhosts', `port ${p.portId} is named by ${p.vhostKeys.length} vhost keys: ${p.vhostKeys.join(', ')}`, p.vhostKeys);
    const bind = p.bindPort;
    if (bind?.ok) {
      const id = bind.value.vhost_id;
      claim(id, p.portId);
      const slot = h.vhosts.filter((v) => v.vhostId === id);
      if (config?.ok && !nicOfVhost.has(id)) {
        add('vhost-not-in-configuration', `${bind.key}: field vhost_id: vhost ${id} is not in ${configKey}`, [bind.key, configKey]);
      }
      if (slot.length === 0) {
        add('bind-port-not-owner', `${bind.key} names vhost ${id}, which has no vhost key on host ${h.host}`, [bind.key]);
      } else if (!slot.some((v) => v.owner.ok && !v.owner.value.free && v.owner.value.portId === p.portId)) {
        add('bind-port-not-owner', `${bind.key} names vhost ${id}, but ${slot.map((v) => `${v.key} = ${v.owner.raw}`).join(', ')}`, [
          bind.key,
          ...slot.map((v) => v.key),
        ]);
      }
    }
    const actionKey = keys.action(h.host, p.portId);
    if (p.action && !p.bindPort) {
      add('action-without-bind-port', `${actionKey} = ${p.action.raw}, but ${keys.bindPort(h.host, p.portId)} does not exist`, [
        actionKey,
        keys.bindPort(h.host, p.portId),
      ]);
    }
    if (p.portStatus?.ok && p.portStatus.value === 'up' && !(p.action?.ok && p.action.value === 'plug')) {
      const action = p.action ? `${actionKey} = ${p.action.raw}` : `${actionKey} does not exist`;
      add('up-without-plug', `${p.portStatus.key} = up, but ${action}`, [p.portStatus.key, actionKey]);
    }
  }
  for (const [vhostId, ports] of [...claimsOf].sort(([a], [b]) => a - b)) {
    if (ports.size < 2) continue;
    const ids = [...ports].sort();
    const involved = [
      ...h.vhosts.filter((v) => v.vhostId === vhostId).map((v) => v.key),
      ...ids.filter((id) => portById.get(id)?.bindPort).map((id) => keys.bindPort(h.host, id)),
    ];
    add('vhost-claimed-twice', `vhost ${vhostId} is claimed by ports ${ids.join(', ')} (${involved.join(', ')})`, involved);
  }

  // one NIC's classifier cannot tell two vhosts with the same MAC (and VLAN) apart
  if (config?.ok) {
    const seen = new Map<string, { key: string; vhostId: number }>();
    for (const p of h.ports) {
      const bind = p.bindPort;
      if (!bind?.ok) continue;
      const nic = nicOfVhost.get(bind.value.vhost_id);
      if (!nic) continue;
      const vlan = vlanOf(bind.value);
      const id = `${nic.index}|${bind.value.mac_address.toLowerCase()}|${vlan ?? ''}`;
      const other = seen.get(id);
      if (other && other.vhostId !== bind.value.vhost_id) {
        const what = `MAC ${bind.value.mac_address.toLowerCase()}${vlan !== undefined ? ` (VLAN ${vlan})` : ''}`;
        add(
          'duplicate-mac',
          `${what} is on vhost ${other.vhostId} (${other.key}) and vhost ${bind.value.vhost_id} (${bind.key}), both on NIC ${nic.index} (${nic.phys})`,
          [other.key, bind.key],
        );
      } else if (!other) {
        seen.set(id, { key: bind.key, vhostId: bind.value.vhost_id });
      }
    }
  }
  return out;
}
