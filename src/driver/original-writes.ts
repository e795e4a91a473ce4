/**
 * The original Python mechanism driver's writes, key by key and in its order
 * (claim the vhost, bind_port, then action), without our client's checks or
 * its wait: what agent tests and benchmarks use to act exactly as neutron does.
 */
import type { Etcd3 } from 'etcd3';
import { FREE_VHOST, pythonJson } from '../protocol/codecs';
import { keys, prefixes } from '../protocol/keys';

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

/**
 * The final networking-spp TaaS service driver's writes (SppTaasDriver,
 * upstream-final 1b), restated on their own (none of our tap client's code):
 * what interop tests use to act exactly as neutron's TaaS plugin does.
 * create_tap_flow_postcommit: both ports' bind_port must exist on the source
 * port's host; IN (or BOTH) then OUT each compare-and-swap the first `None`
 * of mirror/<host>/ in etcd key order (lexical: 0, 1, 10, 2); a BOTH whose OUT
 * finds none puts mirror_in back to `None`; then tap_info with Python's
 * json.dumps formatting, then tap_action = plug. It does not wait here (the
 * driver's watch_once only logs).
 */
export interface OriginalTapFlow {
  readonly tapFlowId: string;
  readonly servicePort: string;
  readonly sourcePort: string;
  readonly direction: 'IN' | 'OUT' | 'BOTH';
}

export class OriginalTaasError extends Error {
  constructor(
    /** The driver's exception: PortNotBound (400), NotSameHost (400), NoMirrorAvailable (409). */
    readonly exception: 'PortNotBound' | 'NotSameHost' | 'NoMirrorAvailable',
    message: string,
  ) {
    super(message);
  }
}

async function originalClaimMirror(client: Etcd3, host: string, tapFlowId: string): Promise<number | undefined> {
  // etcd's range answer is sorted by key bytes: the driver walks it as given
  const listed = await client.getAll().prefix(prefixes.mirrorOfHost(host)).sort('Key', 'Ascend').strings();
  for (const [key, value] of Object.entries(listed)) {
    if (value !== FREE_VHOST) continue;
    const txn = await client.if(key, 'Value', '==', FREE_VHOST).then(client.put(key).value(tapFlowId)).commit();
    if (txn.succeeded) return Number.parseInt(key.slice(key.lastIndexOf('/') + 1), 10);
  }
  return undefined;
}

export async function originalCreateTapFlow(client: Etcd3, host: string, f: OriginalTapFlow): Promise<{ mirrorIn: number | null; mirrorOut: number | null }> {
  if (!(await client.get(keys.bindPort(host, f.sourcePort)).exists())) throw new OriginalTaasError('PortNotBound', `port ${f.sourcePort} is not bound`);
  if (!(await client.get(keys.bindPort(host, f.servicePort)).exists()))
    throw new OriginalTaasError('NotSameHost', "Source port's host must be same as Service port's host");
  let mirrorIn: number | null = null;
  let mirrorOut: number | null = null;
  if (f.direction === 'IN' || f.direction === 'BOTH') {
    mirrorIn = (await originalClaimMirror(client, host, f.tapFlowId)) ?? null;
    if (mirrorIn === null) throw new OriginalTaasError('NoMirrorAvailable', 'no mirror available');
  }
  if (f.direction === 'OUT' || f.direction === 'BOTH') {
    mirrorOut = (await originalClaimMirror(client, host, f.tapFlowId)) ?? null;
    if (mirrorOut === null) {
      if (mirrorIn !== null) await client.put(keys.mirror(host, mirrorIn)).value(FREE_VHOST);
      throw new OriginalTaasError('NoMirrorAvailable', 'no mirror available');
    }
  }
  // the driver's dict literal, in its order
  const info = { service_port: f.servicePort, source_port: f.sourcePort, mirror_in: mirrorIn, mirror_out: mirrorOut };
  await client.put(keys.tapInfo(host, f.tapFlowId)).value(pythonJson(info));
  await client.put(keys.tapAction(host, f.tapFlowId)).value('plug');
  return { mirrorIn, mirrorOut };
}

/** delete_tap_flow_postcommit: `unplug` when tap_action exists; no wait. */
export async function originalDeleteTapFlow(client: Etcd3, host: string, tapFlowId: string): Promise<void> {
  const key = keys.tapAction(host, tapFlowId);
  if (await client.get(key).exists()) await client.put(key).value('unplug');
}
