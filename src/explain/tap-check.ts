/**
 * What a tap flow's rings look like, for the page and `spp explain
 * --tap-flow-id`: where each leg moves a ring (which vf component gave
 * which ring to which mirror component), and which of the plan's steps do
 * not hold in the statuses at hand. The steps come from the agent's own
 * pure planner (src/plan/tap-plan.ts), so neither reader re-derives them.
 */
import type { TapFlow, TapLeg } from '../plan/tap-desired';
import { planTap, type TapObserved } from '../plan/tap-plan';
import { describeProcessCommand } from '../sppctl/commands';
import type { MirrorStatus, VfStatus } from '../sppctl/wire';

/** One leg's redirection in words: the vf component that lost a ring, the mirror component that took it, where the copies go. */
export function redirectText(flow: TapFlow, leg: TapLeg): string {
  const s = flow.source;
  const d = flow.service;
  const service = `${leg.serviceRing} (to ${d.feeder} on spp_vf ${d.secId}, the service port's vhost:${d.vhostId})`;
  if (leg.dir === 'IN')
    return `IN: ${s.feeder} (spp_vf ${s.secId}) gave rx ${s.toVm}, the source's traffic to vhost:${s.vhostId}, to ${leg.component}, which writes it to ${service} and ${leg.sourceRing} (back to ${s.feeder})`;
  return `OUT: ${s.drain} (spp_vf ${s.secId}) gave tx ${s.fromVm}, the source's traffic from vhost:${s.vhostId}, to ${leg.component} and writes ${leg.sourceRing} instead; ${leg.component} reads ${leg.sourceRing} and writes ${s.fromVm} (on to the merger) and ${service}`;
}

/** The statuses the check reads: each vf's by client id, and the mirror's. */
export function tapObserved(vfs: readonly VfStatus[], mirror: MirrorStatus | undefined): TapObserved {
  const byId = new Map(vfs.map((v) => [v['client-id'], v] as const));
  return { vf: (secId) => byId.get(secId), mirror };
}

/** The plan's steps whose fact does not hold, as spp-ctl commands in words (`mirror 3: ...`); empty when the rings are where the plan puts them. */
export function missingTapSteps(flow: TapFlow, observed: TapObserved): string[] {
  return planTap(flow, 'present', observed).map((s) => describeProcessCommand(s.cmd));
}

/** The mirror components a flow's legs need that the mirror's status lacks. */
export function missingMirrorComponents(flow: TapFlow, mirror: MirrorStatus): string[] {
  const running = new Set(mirror.components.flatMap((c) => ('name' in c && c.type === 'mirror' ? [c.name] : [])));
  return flow.legs.filter((l) => !running.has(l.component)).map((l) => l.component);
}
