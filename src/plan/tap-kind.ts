/**
 * The tap flow (TaaS) as one kind: everything the agent, and later the
 * drawings and explanations, need to know of a tap flow, gathered from
 * tap-desired.ts (its intent) and tap-plan.ts (its steps).
 */
import type { DrawHint, Kind } from './kind';
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
  draw: (flow) => {
    const s = flow.source;
    const d = flow.service;
    const vfS = `vf ${s.secId}`;
    const mm = `mirror ${flow.mirrorSecId}`;
    const toService = { process: `vf ${d.secId}`, component: d.feeder, dir: 'rx' as const, change: 'adds' as const };
    const serviceLines = [`to ${d.feeder} (spp_vf ${d.secId})`, `service vhost:${d.vhostId}`];
    return flow.legs.flatMap((l): DrawHint[] => {
      const mk = l.component;
      const tag = `tap ${flow.flowId} ${l.dir}`;
      const copies = { ...toService, port: l.serviceRing, lines: [`rx ${l.serviceRing} ← ${mk} (${tag} copies)`] };
      const mirrorTx = { process: mm, component: mk, port: l.serviceRing, dir: 'tx' as const, change: 'adds' as const, lines: serviceLines };
      if (l.dir === 'IN')
        return [
          { process: vfS, component: s.feeder, port: s.toVm, dir: 'rx', change: 'takes', lines: [`rx ${s.toVm} → ${mk} (${tag})`] },
          { process: vfS, component: s.feeder, port: l.sourceRing, dir: 'rx', change: 'adds', lines: [`rx ${l.sourceRing} ← ${mk} (${tag})`] },
          {
            process: mm,
            component: mk,
            port: s.toVm,
            dir: 'rx',
            change: 'adds',
            lines: [`taken from ${s.feeder} (spp_vf ${s.secId})`, `source vhost:${s.vhostId} in · ${tag}`],
          },
          mirrorTx,
          {
            process: mm,
            component: mk,
            port: l.sourceRing,
            dir: 'tx',
            change: 'adds',
            lines: [`to ${s.feeder} (spp_vf ${s.secId})`, `back to source vhost:${s.vhostId}`],
          },
          copies,
        ];
      return [
        { process: vfS, component: s.drain, port: s.fromVm, dir: 'tx', change: 'takes', lines: [`tx ${s.fromVm} → ${mk} (${tag})`] },
        { process: vfS, component: s.drain, port: l.sourceRing, dir: 'tx', change: 'adds', lines: [`tx ${l.sourceRing} → ${mk} (${tag})`] },
        {
          process: mm,
          component: mk,
          port: l.sourceRing,
          dir: 'rx',
          change: 'adds',
          lines: [`from ${s.drain} (spp_vf ${s.secId})`, `source vhost:${s.vhostId} out · ${tag}`],
        },
        { process: mm, component: mk, port: s.fromVm, dir: 'tx', change: 'adds', lines: [`taken from ${s.drain} (spp_vf ${s.secId})`, 'on to the merger'] },
        mirrorTx,
        copies,
      ];
    });
  },
};
