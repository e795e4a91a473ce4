/**
 * What the controller tells an observer (the ops endpoint's metrics) about
 * its ports, as facts and not log lines, so that metrics never parse text.
 * Every method is called synchronously from the controller and must not
 * throw or block; the default does nothing.
 */
import type { PortIntent } from '../plan/desired';
import type { ReleaseBelief } from './release-belief';

// part of this interface: its observers (src/ops/) import the reconciler only through io.ts, observer.ts and view.ts
export type { ReleaseBelief } from './release-belief';

export interface AgentObserver {
  /** A port's desired state changed (or the port appeared), at etcd `revision`. */
  portDesired(portId: string, intent: PortIntent, revision: number): void;
  /** A port machine entered `state` from `from` ('' for its first state). */
  portState(portId: string, state: string, from: string): void;
  /** The controller dropped the port (its keys are gone and its machine is at rest). */
  portForgotten(portId: string): void;
  /** What the agent now believes of the SPP release behind spp_vf `secId`. */
  sppRelease?(secId: number, belief: ReleaseBelief): void;
  /** A tap flow's machine (TaaS) entered `state` from `from` ('' for its first state). */
  tapState?(flowId: string, state: string, from: string): void;
  /** The controller dropped the tap flow (its keys are gone and its machine is at rest). */
  tapForgotten?(flowId: string): void;
  /** The host's spp_mirror machine entered `state` (the NIC machine's states); undefined: no mirror is configured any more. */
  mirrorState?(secId: number, state: string | undefined): void;
}

export const NO_OBSERVER: AgentObserver = {
  portDesired: () => undefined,
  portState: () => undefined,
  portForgotten: () => undefined,
};
