/**
 * The port as one kind (src/plan/kind.ts), gathered from the modules that
 * predate the shape: its intent (intent.ts), its one test of change
 * (plan/desired.ts), its description (view.ts) and its plan (plan/planner.ts).
 * It lives in the reconciler layer, not in src/plan/ as the tap flow's does,
 * because a port's intent is derived from the store's key records
 * (host-state.ts), which the pure core may not import.
 */

import { type PortIntent, sameIntent } from '../plan/desired';
import type { Kind } from '../plan/kind';
import type { ClassifierRule } from '../plan/observed';
import { type FreeVhost, planVhost } from '../plan/planner';
import { type NicLayout, targetsOf } from '../protocol/layout';
import type { SppCommand } from '../sppctl/commands';
import type { VfStatus } from '../sppctl/wire';
import type { PortKeys } from './host-state';
import { type HostFacts, intentOf, resolveConflicts } from './intent';
import { describeIntent } from './view';

/** One vhost as a port's plug or unplug wants it: present carries `rule`, absent leaves it `free`. */
export interface PortPlacement {
  readonly nic: NicLayout;
  readonly vhostId: number;
  readonly rule: ClassifierRule;
  readonly free: FreeVhost;
}

export const portKind: Kind<HostFacts, PortKeys, PortIntent, PortPlacement, VfStatus, SppCommand> = {
  name: 'port',
  keyKinds: ['bind_port', 'action', 'port_status', 'vhost'],
  // each port's own keys first, then the vhosts two ports want at once
  intents: (facts, ports) => resolveConflicts(new Map(ports.map((p) => [p.portId, intentOf(p, facts)])), facts),
  sameIntent,
  describe: describeIntent,
  // the classifier holding the entry and untagging, and the component tagging the VM's frames
  slice: ({ nic, vhostId }) => {
    const tg = targetsOf(nic, vhostId);
    return { vfs: [nic.secId], components: [...new Set([`vf ${nic.secId}/${tg.untag.component}`, `vf ${nic.secId}/${tg.tag.component}`])] };
  },
  plan: (p, want, status) => planVhost(p.nic, p.vhostId, want === 'present' ? p.rule : p.free, status),
  // a plug attaches nothing: it writes the settings of two layout ports (entry and untag on one, tag on the other)
  draw: ({ nic, vhostId }) => {
    const tg = targetsOf(nic, vhostId);
    const process = `vf ${nic.secId}`;
    return [
      { process, component: tg.untag.component, port: tg.untag.port, dir: 'tx', change: 'adds', lines: [`vhost:${vhostId}: classifier entry, untag`] },
      { process, component: tg.tag.component, port: tg.tag.port, dir: 'rx', change: 'adds', lines: [`vhost:${vhostId}: tag`] },
    ];
  },
};
