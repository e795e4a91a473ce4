/**
 * What the agent believes of the SPP release behind each spp_vf, in words:
 * `spp explain`, `spp report` and the page say it the same way. Pure.
 */
import type { ReleaseBelief } from '../agent/release-belief';
import { familyFromStatus, releasesOf } from '../sppctl/releases';
import type { VfStatus } from '../sppctl/wire';

/** `SPP <=18.08.2 (18.08, 18.08.1, 18.08.2)`; `unknown` names no release. */
export function familyText(belief: Pick<ReleaseBelief, 'family'>): string {
  return belief.family === 'unknown' ? 'an unknown SPP release' : `SPP ${belief.family} (${releasesOf(belief.family).join(', ')})`;
}

/** One sentence: the agent's belief of spp_vf `secId` and why. */
export function beliefText(secId: number, belief: ReleaseBelief): string {
  const spelling = belief.classifierType ? `; it starts the classifier as type ${belief.classifierType}` : '';
  return `The agent believes spp_vf ${secId} runs ${familyText(belief)}: ${belief.reason}${spelling}.`;
}

/** What a status read from spp-ctl itself says (for comparison with the agent's belief). */
export function statusReleaseText(status: VfStatus): string {
  const seen = familyFromStatus(status);
  return `spp_vf ${status['client-id']}'s status as spp-ctl returns it says ${familyText(seen)}: ${seen.reason}.`;
}

/** The lines of `spp report`'s sppctl/release.txt: the agent's belief of each vf, then what spp-ctl's statuses say. */
export function releaseReport(nics: ReadonlyArray<{ readonly secId: number; readonly release?: ReleaseBelief }>, vfs: readonly VfStatus[]): string[] {
  return [
    ...nics.map((n) => (n.release ? beliefText(n.secId, n.release) : `The agent reports no belief for spp_vf ${n.secId}.`)),
    ...vfs.map(statusReleaseText),
  ];
}
