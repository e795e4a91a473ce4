/**
 * Claiming a vhost: compare-and-swap of vhost/<host>/<phys>/<id> from the
 * text None to the port id, lowest id first, so concurrent binders never
 * share a vhost and the agent can free it with the reverse swap.
 */
import type { Etcd3 } from 'etcd3';
import { decodeVhostOwner, FREE_VHOST } from '../protocol/codecs';
import { keys, parseKey, prefixes } from '../protocol/keys';

export interface VhostSlot {
  readonly vhostId: number;
  /** 'None', a port id, or a value that is neither (skipped). */
  readonly owner: { readonly free: true } | { readonly free: false; readonly portId: string } | { readonly invalid: string };
}

/** Parses a listing of vhost/<host>/<phys>/ into slots in ascending vhost id order. */
export function vhostSlots(listing: Record<string, string>): VhostSlot[] {
  const slots: VhostSlot[] = [];
  for (const [key, raw] of Object.entries(listing)) {
    const parsed = parseKey(key);
    if (parsed?.kind !== 'vhost') continue;
    const d = decodeVhostOwner(key, raw);
    slots.push({ vhostId: parsed.vhostId, owner: d.ok ? d.value : { invalid: d.error } });
  }
  return slots.sort((a, b) => a.vhostId - b.vhostId);
}

export type Claim = { readonly vhostId: number; readonly reused: boolean };

/**
 * Claims the first free vhost of `phys` for `portId`; undefined when none is
 * free. A vhost the port already owns (a bind interrupted between claim and
 * bind_port) is reused rather than leaking it and claiming another.
 */
export async function claimVhost(client: Etcd3, host: string, phys: string, portId: string): Promise<Claim | undefined> {
  const slots = vhostSlots(await client.getAll().prefix(prefixes.vhostOfPhys(host, phys)).strings());
  const owned = slots.find((s) => 'free' in s.owner && !s.owner.free && s.owner.portId === portId);
  if (owned) return { vhostId: owned.vhostId, reused: true };
  for (const slot of slots) {
    if (!('free' in slot.owner) || !slot.owner.free) continue;
    const key = keys.vhost(host, phys, slot.vhostId);
    const txn = await client.if(key, 'Value', '==', FREE_VHOST).then(client.put(key).value(portId)).commit();
    if (txn.succeeded) return { vhostId: slot.vhostId, reused: false };
    // Someone else took it between our listing and the swap: try the next one.
  }
  return undefined;
}

/** Gives a claimed vhost back, only if this port still owns it. */
export async function releaseVhost(client: Etcd3, host: string, phys: string, vhostId: number, portId: string): Promise<boolean> {
  const key = keys.vhost(host, phys, vhostId);
  const txn = await client.if(key, 'Value', '==', portId).then(client.put(key).value(FREE_VHOST)).commit();
  return txn.succeeded;
}
