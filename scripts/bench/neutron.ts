/**
 * The mechanism driver's writes, split so the clock can start at the
 * `action = plug` put (the moment neutron asks for the port), as the Python
 * driver orders them: claim the vhost, bind_port, then action.
 */
import type { Etcd3 } from 'etcd3';
import { keys } from '../../src/protocol/keys';
import { pythonJson } from '../../src/protocol/codecs';

export interface BenchPort {
  readonly portId: string;
  readonly phys: string;
  readonly vhostId: number;
  readonly mac: string;
  readonly vlan?: number;
}

let serial = 0;

/** A fresh port id and MAC for a vhost: every run is a new port, so no event of an earlier run can be mistaken for it. */
export function newPort(phys: string, vhostId: number, vlan?: number): BenchPort {
  const n = ++serial;
  const hex = n.toString(16).padStart(12, '0');
  const mac = `fa:16:3e:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
  return { portId: `be0c0000-0000-4000-8000-${hex}`, phys, vhostId, mac, ...(vlan !== undefined ? { vlan } : {}) };
}

export async function claimAndBind(client: Etcd3, host: string, p: BenchPort): Promise<void> {
  const vhostKey = keys.vhost(host, p.phys, p.vhostId);
  const claimed = await client.if(vhostKey, 'Value', '==', 'None').then(client.put(vhostKey).value(p.portId)).commit();
  if (!claimed.succeeded) throw new Error(`vhost ${vhostKey} is not free`);
  const bind: Record<string, unknown> = { vhost_id: p.vhostId, mac_address: p.mac };
  if (p.vlan !== undefined) bind['vlan_id'] = p.vlan;
  await client.put(keys.bindPort(host, p.portId)).value(pythonJson(bind));
}

export async function setAction(client: Etcd3, host: string, portId: string, action: 'plug' | 'unplug'): Promise<void> {
  await client.put(keys.action(host, portId)).value(action);
}
