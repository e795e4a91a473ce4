/**
 * The one owner of what connects one host's ports and NICs: the running port
 * and NIC machines, and which port wants which vhost. Every question of the
 * kind "who wants vhost v" has its answer here, from one index built from the
 * intents the ports were delivered (a port machine's intent is always the
 * last one delivered to it), and every event between the two kinds of
 * machine goes through here: NIC_STATE and RESYNC to the ports of a NIC,
 * RESYNC_NEEDED to a NIC a port's run found restarted.
 */
import { type PortIntent, secIdOf } from '../plan/desired';
import type { VhostDesired } from '../plan/planner';
import type { NicRuntime, PortRuntime } from './host-runtime';

export class Coordinator {
  readonly ports = new Map<string, PortRuntime>();
  readonly nics = new Map<number, NicRuntime>();
  /** vhost id -> the port whose intent plugs it, and that intent (one per vhost: resolveConflicts). */
  private plugs = new Map<number, { readonly portId: string; readonly intent: Extract<PortIntent, { kind: 'plug' }> }>();
  /** The ports and intents the index was last built from, in the ports' order. */
  private indexedFrom: ReadonlyArray<readonly [string, PortIntent]> = [];

  /** The ports hold the very intents (objects) the index was built from: it would come out the same, and lose no vhost. */
  private indexedFromNow(): boolean {
    if (this.indexedFrom.length !== this.ports.size) return false;
    let i = 0;
    for (const p of this.ports.values()) {
      const [portId, intent] = this.indexedFrom[i++]!;
      if (p.portId !== portId || p.lastIntent !== intent) return false;
    }
    return true;
  }
  /** vhost ids some port's intent plugs or unplugs. */
  private referencedVhosts = new Set<number>();

  nicFor(secId: number): NicRuntime {
    const nic = this.nics.get(secId);
    if (!nic) throw new Error(`no NIC with spp_vf id ${secId} in the configuration`);
    return nic;
  }

  /**
   * After a sync delivered every port its intent: the index again. Returns
   * the vhosts a port plugged before and no port's intent references now,
   * with the port that had it (to be cleared).
   */
  reindex(): Array<{ readonly vhostId: number; readonly formerPort: string }> {
    // every sync asks, and most change no port's intent: the same intents, in the same order, index the same
    if (this.indexedFromNow()) return [];
    this.indexedFrom = [...this.ports.values()].map((p) => [p.portId, p.lastIntent] as const);
    const before = this.plugs;
    this.plugs = new Map();
    this.referencedVhosts = new Set();
    for (const p of this.ports.values()) {
      const intent = p.lastIntent;
      if (intent.kind === 'plug') this.plugs.set(intent.place.vhostId, { portId: p.portId, intent });
      if ((intent.kind === 'plug' || intent.kind === 'unplug') && intent.place) this.referencedVhosts.add(intent.place.vhostId);
    }
    const lost: Array<{ vhostId: number; formerPort: string }> = [];
    for (const [vhostId, { portId }] of before) if (!this.referencedVhosts.has(vhostId)) lost.push({ vhostId, formerPort: portId });
    return lost;
  }

  /** True when some port wants the vhost plugged or is unplugging it. */
  referenced(vhostId: number): boolean {
    return this.referencedVhosts.has(vhostId);
  }

  /** Another port than `portId` wants the vhost plugged (so unplugging `portId` must not clear it). */
  pluggedByOther(vhostId: number, portId: string): boolean {
    const other = this.plugs.get(vhostId)?.portId;
    return other !== undefined && other !== portId;
  }

  /** The rule each vhost of the NIC is wanted with by the port that plugs it. */
  desiredOn(secId: number): Map<number, VhostDesired> {
    const out = new Map<number, VhostDesired>();
    for (const [vhostId, { intent }] of this.plugs) if (intent.place.secId === secId) out.set(vhostId, intent.rule);
    return out;
  }

  /** Whether the spp_vf of the intent's vhost is usable (true when the intent needs none). */
  readyFor(intent: PortIntent): boolean {
    const secId = secIdOf(intent);
    return secId === undefined || this.nics.get(secId)?.worker.ready === true;
  }

  /**
   * Tells the ports on this NIC that it became usable or not. A NIC rebuilt
   * with changes also sends RESYNC to the ports that were running, not to
   * those that waited for it: their first run is still to come.
   */
  toPorts(secId: number, ready: boolean, changed: boolean): void {
    for (const p of this.ports.values()) {
      if (secIdOf(p.lastIntent) !== secId) continue;
      const waiting = p.actor.getSnapshot().hasTag('waiting');
      p.actor.send({ type: 'NIC_STATE', ready });
      if (ready && changed && !waiting) p.actor.send({ type: 'RESYNC' });
    }
  }

  /** A port's run found the vf restarted or without its layout: the NIC reads it again, or rebuilds it. */
  resyncNeeded(nic: NicRuntime, reason: string): void {
    nic.actor.send({ type: 'RESYNC_NEEDED', reason });
  }
}
