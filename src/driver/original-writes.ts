/**
 * The original Python mechanism driver's writes, key by key and in its order
 * (claim the vhost, bind_port, then action), without our client's checks or
 * its wait: what agent tests and benchmarks use to act exactly as neutron does.
 */
import type { Etcd3 } from 'etcd3';
import { FREE_VHOST, pythonJson } from '../protocol/codecs';
import { keys } from '../protocol/keys';

export interface OriginalPort {
  readonly portId: string;
  readonly phys: string;
  readonly vhostId: number;
  readonly mac: string;
  readonly vlan?: number;
}

/** Claim (compare-and-swap None -> port id), then bind_port with Python's formatting. */
export async function claimAndBind(client: Etcd3, host: string, p: OriginalPort): Promise<void> {
  const vhostKey = keys.vhost(host, p.phys, p.vhostId);
  const claimed = await client.if(vhostKey, 'Value', '==', FREE_VHOST).then(client.put(vhostKey).value(p.portId)).commit();
  if (!claimed.succeeded) throw new Error(`vhost ${vhostKey} is not free`);
  const bind: Record<string, unknown> = { vhost_id: p.vhostId, mac_address: p.mac };
  if (p.vlan !== undefined) bind.vlan_id = p.vlan;
  await client.put(keys.bindPort(host, p.portId)).value(pythonJson(bind));
}

export async function setAction(client: Etcd3, host: string, portId: string, action: 'plug' | 'unplug'): Promise<void> {
  await client.put(keys.action(host, portId)).value(action);
}
