/**
 * The desired state of a port as the machines and the planner see it: what
 * its etcd keys ask for (src/agent/intent.ts derives it). Data only.
 */
import type { ClassifierRule } from './observed';

/** Where a port's vhost lives. */
export interface VhostPlace {
  readonly vhostId: number;
  readonly secId: number;
  /** vhost/<host>/<phys>/<id>; undefined when set-up wrote no key for the id. */
  readonly vhostKey?: string;
}

export type PortIntent =
  /** No action key, or `plug` before bind_port exists: nothing to do yet. */
  | { readonly kind: 'idle'; readonly note: string }
  | { readonly kind: 'plug'; readonly place: VhostPlace; readonly rule: ClassifierRule }
  /** place is undefined when bind_port is missing or unusable: only the keys are cleaned up. */
  | { readonly kind: 'unplug'; readonly place?: VhostPlace; readonly rule?: ClassifierRule }
  /** Input that retrying cannot fix; reported as `port_status = error: <reason>` for plug. */
  | { readonly kind: 'invalid'; readonly reason: string };
