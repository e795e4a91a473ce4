/**
 * The read model of one host's agent: what the controller shows of itself
 * (the visualizer, `spp status`, the replay's report and frames). Types and
 * words only, so every reader imports this and not the controller.
 */
import type { NicTag, PortTag } from '../../machines/tags';
import type { PortIntent } from '../plan/desired';
import type { VhostObserved } from '../plan/observed';
import type { NicLayout } from '../protocol/layout';
import type { VfStatus } from '../sppctl/wire';
import type { ReleaseBelief } from './release-belief';

export interface HistoryEntry {
  readonly at: number;
  readonly revision: number;
  readonly what: string;
  readonly state: string;
  /** The machine's tags in `state` (machines/tags.ts): what readers ask, the name is for people. */
  readonly tags: readonly PortTag[];
  readonly commands?: readonly string[];
  readonly error?: string;
}

export interface PortView {
  readonly portId: string;
  readonly state: string;
  /** The machine's tags in `state` (machines/tags.ts): what readers ask, the name is for people. */
  readonly tags: readonly PortTag[];
  readonly intent: PortIntent;
  readonly observed?: VhostObserved;
  readonly lastError?: string;
  /** Failed attempts in a row (the machine's count, which the backoff grows with); absent when none. */
  readonly attempts?: number;
  readonly revision: number;
  readonly history: readonly HistoryEntry[];
}

export interface NicView {
  readonly secId: number;
  readonly layout: NicLayout;
  readonly state: string;
  /** The machine's tags in `state` (machines/tags.ts). */
  readonly tags: readonly NicTag[];
  readonly lastError?: string;
  readonly status?: VfStatus;
  /** The SPP release family the agent believes runs this vf, and why. */
  readonly release?: ReleaseBelief;
  /** Where the vf differs from the configured layout in ways the agent leaves (src/plan/drift.ts); absent when it does not. */
  readonly drift?: readonly string[];
}

export interface VhostClaim {
  readonly vhostId: number;
  readonly phys: string;
  /** The port id the vhost key names; undefined when free; `error` when the value is not valid. */
  readonly owner?: string;
  readonly error?: string;
}

export interface ControllerView {
  readonly host: string;
  /** The vhost keys: who claims each vhost. */
  readonly vhosts: readonly VhostClaim[];
  readonly revision: number;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly configurationErrors: readonly string[];
  readonly nics: readonly NicView[];
  readonly ports: readonly PortView[];
  /** The agent runs with --unplug-resets-vlan (a free vhost's tags are reset, not left). */
  readonly unplugResetsVlan?: boolean;
}

/** One step of a replay (or a snapshot of a live agent): what the visualizer's slider shows. */
export interface ViewFrame {
  readonly revision: number;
  /** What happened at this step, e.g. `put /spp/openstack/action/spp4/P = plug`. */
  readonly label: string;
  readonly view: ControllerView;
}

/** A port's intent in the words of its history and of the replay report. */
export function describeIntent(intent: PortIntent): string {
  switch (intent.kind) {
    case 'idle':
      return `idle (${intent.note})`;
    case 'plug':
      return `plug vhost ${intent.place.vhostId} mac ${intent.rule.mac}${intent.rule.vlan !== undefined ? ` vlan ${intent.rule.vlan}` : ''}`;
    case 'unplug':
      return intent.place ? `unplug vhost ${intent.place.vhostId}` : 'unplug (no usable bind_port: keys only)';
    case 'invalid':
      return `invalid: ${intent.reason}`;
  }
}
