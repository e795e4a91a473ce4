/**
 * The desired state of a port as the machines and the planner see it: what
 * its etcd keys ask for (src/agent/intent.ts derives it), and the one test
 * of whether it changed.
 */
import { type ClassifierRule, sameRule } from './observed';

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
  /**
   * Input that retrying cannot fix; reported as `port_status = error: <reason>` for plug.
   * `cause` says what kind of fact is wrong, so readers (spp explain) need not parse `reason`.
   */
  | { readonly kind: 'invalid'; readonly reason: string; readonly cause: InvalidCause };

/** Why an intent is invalid: the port's own keys, or a vhost another port holds (its vhost key or a rival bind_port). */
export type InvalidCause = 'input' | 'vhost-claimed';

/** The vhost a port's intent plugs or clears, if any. */
export function vhostOf(intent: PortIntent): number | undefined {
  return intent.kind === 'plug' || intent.kind === 'unplug' ? intent.place?.vhostId : undefined;
}

/** The spp_vf a port's intent needs, if any. */
export function secIdOf(intent: PortIntent): number | undefined {
  return intent.kind === 'plug' || intent.kind === 'unplug' ? intent.place?.secId : undefined;
}

/**
 * Whether two intents ask for the same thing: the one test of "the desired
 * state changed" (the controller's delivery and the port machine's guard).
 * Field by field, not JSON: it runs for every port on every sync.
 */
export function sameIntent(a: PortIntent, b: PortIntent): boolean {
  if (a === b) return true;
  switch (a.kind) {
    case 'idle':
      return b.kind === 'idle' && a.note === b.note;
    case 'invalid':
      return b.kind === 'invalid' && a.reason === b.reason;
    case 'plug':
    case 'unplug':
      return b.kind === a.kind && samePlace(a.place, b.place) && sameRule(a.rule, b.rule);
  }
}

function samePlace(a: VhostPlace | undefined, b: VhostPlace | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.vhostId === b.vhostId && a.secId === b.secId && a.vhostKey === b.vhostKey);
}
