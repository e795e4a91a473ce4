/**
 * What the page says about each tap flow (TaaS): its state by the tags of its
 * machine (the legend's words, as a port's), direction, ports, mirrors,
 * last error and commands; which vf component gave which ring to which
 * mirror component; and the steps of the agent's plan that do not hold in
 * the statuses it has. Pure.
 */
import type { TapTag } from '../../machines/tags';
import type { ControllerView, TapEndView, TapView } from '../agent/view';
import { missingTapSteps, redirectText, tapObserved } from '../explain/tap-check';
import type { TapExplanation } from '../explain/tap-explain';
import type { DrawHint } from '../plan/kind';
import { describeTapIntent, type TapFlow } from '../plan/tap-desired';
import { tapKind } from '../plan/tap-kind';
import { type Phase, phaseOf } from './port-rows';

export interface TapRow {
  readonly flowId: string;
  readonly state: string;
  readonly tags: readonly TapTag[];
  readonly phase: Phase;
  /** Failed, or on its way: listed first. */
  readonly attention: boolean;
  readonly direction?: string;
  readonly source?: TapEndView;
  readonly service?: TapEndView;
  readonly legs: readonly { readonly dir: string; readonly mirrorId: number; readonly component: string }[];
  readonly intentText: string;
  readonly lastError?: string;
  readonly attempts?: number;
  readonly commands: readonly string[];
  readonly statusKey: string;
  /** Per leg: the vf component that gave a ring, the mirror component that took it, where the copies go. */
  readonly redirects: readonly string[];
  /** The plan's steps that do not hold in the agent's statuses, for a flow its machine holds up (empty otherwise). */
  readonly missing: readonly string[];
  /** What `spp explain --tap-flow-id` says (a live agent's page, where the host's keys are at hand). */
  readonly explanation?: TapExplanation;
}

/** The flow a tap's intent carries out or removes, if the keys say where it is. */
export function flowOfTap(tap: TapView): TapFlow | undefined {
  const i = tap.intent;
  return (i.kind === 'plug' || i.kind === 'unplug') && i.flow ? i.flow : undefined;
}

/** A vf port a live tap flow moved into the mirror (`moved`) or added, with its words for the vf drawing. */
export interface TapPort {
  readonly component: string;
  readonly port: string;
  readonly dir: 'rx' | 'tx';
  readonly moved: boolean;
  readonly text: string;
}

/** What the live tap flows draw (the kind's hints: a flow that holds nothing, `free`, draws none), and whether the flow holds it up. */
export function liveTapHints(taps: readonly TapView[]): { hint: DrawHint; required: boolean }[] {
  return taps.flatMap((tap) => {
    const f = flowOfTap(tap);
    if (!f || tap.tags.includes('free')) return [];
    const required = tap.tags.includes('up');
    return tapKind.draw(f).map((hint) => ({ hint, required }));
  });
}

/** The ports of spp_vf `secId` that the live tap flows moved or added. */
export function tapPortsOf(taps: readonly TapView[], secId: number): TapPort[] {
  return liveTapHints(taps)
    .filter(({ hint }) => hint.process === `vf ${secId}`)
    .map(({ hint: h }) => ({ component: h.component, port: h.port, dir: h.dir, moved: h.change === 'takes', text: h.lines.join(' ') }));
}

const PHASE_ORDER: Record<Phase, number> = { failed: 0, retrying: 1, plugging: 2, unplugging: 2, up: 3, free: 4 };

export function tapRows(view: ControllerView): TapRow[] {
  const vfs = view.nics.flatMap((n) => (n.status ? [n.status] : []));
  const mirror = view.mirror?.status;
  return (view.taps ?? [])
    .map((tap): TapRow => {
      const phase = phaseOf(tap);
      const flow = flowOfTap(tap);
      // only a flow the agent holds up is expected to have its rings in place
      const missing = flow && mirror && tap.tags.includes('up') ? missingTapSteps(flow, tapObserved(vfs, mirror)) : [];
      return {
        flowId: tap.flowId,
        state: tap.state,
        tags: tap.tags,
        phase,
        attention: phase !== 'up' && phase !== 'free',
        ...(tap.direction ? { direction: tap.direction } : {}),
        ...(tap.source ? { source: tap.source } : {}),
        ...(tap.service ? { service: tap.service } : {}),
        legs: (tap.mirrors ?? []).map((m) => ({ dir: m.dir, mirrorId: m.mirrorId, component: m.component })),
        intentText: describeTapIntent(tap.intent),
        ...(tap.lastError ? { lastError: tap.lastError } : {}),
        ...(tap.attempts ? { attempts: tap.attempts } : {}),
        commands: tap.commands,
        statusKey: tap.statusKey,
        redirects: flow ? flow.legs.map((l) => redirectText(flow, l)) : [],
        missing,
      };
    })
    .sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.flowId.localeCompare(b.flowId));
}
