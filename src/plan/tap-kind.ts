/**
 * The tap flow (TaaS) as one kind: everything the agent, and later the
 * drawings and explanations, need to know of a tap flow, gathered from
 * tap-desired.ts (its intent) and tap-plan.ts (its steps).
 */
import type { Kind } from './kind';
import { describeTapIntent, sameTapIntent, type TapFacts, type TapFlow, type TapFlowKeys, type TapIntent, tapIntents } from './tap-desired';
import { planTap, type TapObserved, type TapStep } from './tap-plan';

export const tapKind: Kind<TapFacts, TapFlowKeys, TapIntent, TapFlow, TapObserved, TapStep> = {
  name: 'tap flow',
  keyKinds: ['tap_info', 'tap_action', 'tap_status', 'mirror'],
  intents: tapIntents,
  sameIntent: sameTapIntent,
  describe: describeTapIntent,
  slice: (flow) => ({
    vfs: [...new Set([flow.source.secId, flow.service.secId])],
    mirror: flow.mirrorSecId,
    components: [
      ...new Set([
        `vf ${flow.service.secId}/${flow.service.feeder}`,
        ...flow.legs.map((l) => `vf ${flow.source.secId}/${l.dir === 'IN' ? flow.source.feeder : flow.source.drain}`),
        ...flow.legs.map((l) => `mirror ${flow.mirrorSecId}/${l.component}`),
      ]),
    ],
  }),
  plan: planTap,
  // what a flow in place has changed: the source's ring moved into the mirror, the mirror's rings out to the forwarders
  draw: (flow) =>
    flow.legs.flatMap((l) => {
      const vfS = `vf ${flow.source.secId}`;
      const vfD = `vf ${flow.service.secId}`;
      const mm = `mirror ${flow.mirrorSecId}`;
      const moved = l.dir === 'IN' ? flow.source.toVm : flow.source.fromVm;
      const sourceComp = l.dir === 'IN' ? flow.source.feeder : flow.source.drain;
      return [
        { process: vfS, component: sourceComp, port: moved, dir: l.dir === 'IN' ? ('rx' as const) : ('tx' as const), change: 'takes' as const },
        { process: mm, component: l.component, port: moved, dir: l.dir === 'IN' ? ('rx' as const) : ('tx' as const), change: 'adds' as const },
        { process: mm, component: l.component, port: l.serviceRing, dir: 'tx' as const, change: 'adds' as const },
        { process: vfD, component: flow.service.feeder, port: l.serviceRing, dir: 'rx' as const, change: 'adds' as const },
        { process: mm, component: l.component, port: l.sourceRing, dir: l.dir === 'IN' ? ('tx' as const) : ('rx' as const), change: 'adds' as const },
        { process: vfS, component: sourceComp, port: l.sourceRing, dir: l.dir === 'IN' ? ('rx' as const) : ('tx' as const), change: 'adds' as const },
      ];
    }),
};
