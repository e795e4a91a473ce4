/**
 * Where an spp_vf differs from the layout its configuration now declares in
 * ways the planner does not change by itself: a component running with
 * another type (an spp_vf built by the c33920f or e7ea292 agent runs
 * `forward_<v>_tx` as forward; the final layout starts it as merge), and a
 * VLAN tag on a port the layout never tags (an older agent's tag on
 * `vhost:<v>` of `forward_<v>_rx`, where the final layout tags
 * `ring:<2v+1>` of the merger). Pure; the agent logs it, and explain,
 * /readyz and the page say it with what to do.
 */
import type { NicLayout } from '../protocol/layout';
import type { VfStatus } from '../sppctl/wire';
import { findComponent } from './observed';

export interface Drift {
  readonly kind: 'type' | 'stale-tag';
  /** One sentence naming the component, the port and what the layout wants. */
  readonly text: string;
  /** The vhost a stale tag belongs to, when it lies on one vhost's path. */
  readonly vhostId?: number;
  /** Where a stale tag is: detached and attached again without it by that vhost's next plug. */
  readonly at?: { readonly component: string; readonly port: string; readonly dir: 'rx' | 'tx' };
}

/** Both spellings SPP used for the classifier (classifier_mac up to 18.08.3, classifier from 18.08.4). */
const sameType = (running: string, wanted: string): boolean =>
  running === wanted || (wanted === 'classifier_mac' && running === 'classifier') || (wanted === 'classifier' && running === 'classifier_mac');

/** The vhost whose path the port is on (vhost:<v>, its entry port, its tag port), if exactly one. */
const vhostOfPort = (port: string, nic: NicLayout): number | undefined => {
  const on = nic.targets.filter((tg) => port === `vhost:${tg.vhostId}` || port === tg.entryPort || port === tg.tag.port);
  return on.length === 1 ? on[0]!.vhostId : undefined;
};

export function layoutDrift(nic: NicLayout, status: VfStatus): Drift[] {
  const out: Drift[] = [];
  for (const spec of nic.components) {
    const running = findComponent(status, spec.name);
    if (!running) continue;
    if (!sameType(running.type, spec.type)) {
      out.push({ kind: 'type', text: `${spec.name} runs as ${running.type}; the configured layout starts it as ${spec.type}` });
    }
    for (const dir of ['rx', 'tx'] as const) {
      for (const p of dir === 'rx' ? running.rx_port : running.tx_port) {
        if (p.vlan.operation === 'none') continue;
        const target = nic.targets.find((tg) => {
          const t = dir === 'rx' ? tg.tag : tg.untag;
          return t.component === spec.name && t.port === p.port;
        });
        if (target) continue;
        const v = vhostOfPort(p.port, nic);
        const where = v === undefined ? undefined : nic.targets.find((tg) => tg.vhostId === v);
        const should = where
          ? ` (the configured layout ${dir === 'rx' ? 'tags' : 'untags'} ${dir === 'rx' ? `${where.tag.port} of ${where.tag.component}` : `${where.untag.port} of ${where.untag.component}`})`
          : '';
        const op = p.vlan.operation === 'add' ? `vlan add ${p.vlan.id}` : 'vlan del';
        out.push({
          kind: 'stale-tag',
          text: `${p.port} ${dir} of ${spec.name} carries ${op}, which the configured layout never sets${should}`,
          ...(v === undefined ? {} : { vhostId: v }),
          at: { component: spec.name, port: p.port, dir },
        });
      }
    }
  }
  return out;
}

/** What an operator does about it (docs/operations.md, "Upgrade from the original agent"). */
export function driftRemedy(secId: number): string {
  return (
    `spp_vf ${secId} was built from another layout than the configuration declares (an agent of another networking-spp version built it): ` +
    `restart spp_vf ${secId} and the agent rebuilds it from the configuration and plugs its ports again; ` +
    'a stale tag on a vhost is also cleared by the next plug of that vhost'
  );
}
