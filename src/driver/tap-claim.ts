/**
 * Claiming spp_mirror components for a tap flow as the TaaS service driver
 * does: walk mirror/<host>/ in etcd key order (lexical: 0, 1, 10, 2, ...) and
 * compare-and-swap the first `None` to the tap flow id.
 */
import type { Etcd3 } from 'etcd3';
import { decodeMirrorOwner, FREE_MIRROR } from '../protocol/codecs';
import { keys, parseKey, prefixes } from '../protocol/keys';

export interface MirrorSlot {
  readonly key: string;
  readonly mirrorId: number;
  /** 'None', a tap flow id, or a value that is neither (never claimed). */
  readonly owner: { readonly free: true } | { readonly free: false; readonly tapFlowId: string } | { readonly invalid: string };
}

/** The mirror keys of a listing, in etcd's key order (byte order, as upstream walks them). */
export function mirrorSlots(listing: Readonly<Record<string, string>>): MirrorSlot[] {
  const slots: MirrorSlot[] = [];
  for (const [key, raw] of Object.entries(listing)) {
    const parsed = parseKey(key);
    if (parsed?.kind !== 'mirror') continue;
    const d = decodeMirrorOwner(key, raw);
    slots.push({ key, mirrorId: parsed.mirrorId, owner: d.ok ? d.value : { invalid: d.error } });
  }
  return slots.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export async function readMirrorSlots(client: Etcd3, host: string): Promise<MirrorSlot[]> {
  return mirrorSlots(await client.getAll().prefix(prefixes.mirrorOfHost(host)).strings());
}

/**
 * Claims one mirror for `tapFlowId`, skipping the ids in `taken`; undefined
 * when none is free. A mirror this flow already owns (a create interrupted
 * before tap_info) is taken again rather than leaked.
 */
export async function claimMirror(client: Etcd3, host: string, tapFlowId: string, taken: readonly number[]): Promise<number | undefined> {
  const slots = (await readMirrorSlots(client, host)).filter((s) => !taken.includes(s.mirrorId));
  const owned = slots.find((s) => 'free' in s.owner && !s.owner.free && s.owner.tapFlowId === tapFlowId);
  if (owned) return owned.mirrorId;
  for (const slot of slots) {
    if (!('free' in slot.owner) || !slot.owner.free) continue;
    const txn = await client.if(slot.key, 'Value', '==', FREE_MIRROR).then(client.put(slot.key).value(tapFlowId)).commit();
    if (txn.succeeded) return slot.mirrorId;
    // taken by another create between the listing and the swap: the next one
  }
  return undefined;
}

/** Frees a mirror with a plain put, as upstream's driver does when a BOTH claim half-fails. */
export async function freeMirror(client: Etcd3, host: string, mirrorId: number): Promise<void> {
  await client.put(keys.mirror(host, mirrorId)).value(FREE_MIRROR);
}

/** Why no mirror could be claimed, for the refusal's message. */
export function noMirrorReason(host: string, slots: readonly MirrorSlot[]): string {
  if (slots.length === 0) return `host ${host} has no mirror keys (${prefixes.mirrorOfHost(host)} is empty): no spp_mirror is configured there`;
  const owners = slots.map((s) =>
    'invalid' in s.owner ? `${s.mirrorId}: unreadable (${s.owner.invalid})` : s.owner.free ? `${s.mirrorId}: free` : `${s.mirrorId}: ${s.owner.tapFlowId}`,
  );
  return `every mirror of ${host} is claimed (${owners.join(', ')})`;
}
