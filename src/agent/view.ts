/**
 * The read model of one host's agent: what the controller shows of itself
 * (the visualizer, `spp status`, the replay's report and frames). Types and
 * words only, so every reader imports this and not the controller.
 */
import type { NicTag, PortTag, TapTag } from '../../machines/tags';
import type { PortIntent } from '../plan/desired';
import type { DrawHint } from '../plan/kind';
import type { VhostObserved } from '../plan/observed';
import type { TapDirection, TapIntent } from '../plan/tap-desired';
import type { NicLayout } from '../protocol/layout';
import type { MirrorStatus, VfStatus } from '../sppctl/wire';
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

/** One end of a tap flow: the port, its vhost and the vf that serves it. */
export interface TapEndView {
  readonly portId: string;
  readonly vhostId: number;
  readonly secId: number;
}

/** A tap flow (TaaS) as the agent holds it: what it asks for, its machine's state, and what its last run sent. */
export interface TapView {
  readonly flowId: string;
  readonly state: string;
  /** The tap machine's tags in `state` (machines/tags.ts: the port's words). */
  readonly tags: readonly TapTag[];
  readonly intent: TapIntent;
  /** Absent when the keys do not say (an invalid or keys-only flow). */
  readonly direction?: TapDirection | 'BOTH';
  readonly source?: TapEndView;
  readonly service?: TapEndView;
  /** Per mirrored direction: the mirror component and its rings (service side RA, source side RB). */
  readonly mirrors?: readonly {
    readonly dir: TapDirection;
    readonly mirrorId: number;
    readonly component: string;
    readonly serviceRing: string;
    readonly sourceRing: string;
  }[];
  /** What the flow changes in the drawings once in place: vf ports it takes from the layout, ports it adds to the vfs and the mirror. */
  readonly redirects?: readonly DrawHint[];
  readonly lastError?: string;
  readonly attempts?: number;
  readonly revision: number;
  /** spp-ctl commands of the last run, in text form (`mirror 3: port add ring:8 tx mirror_0`). */
  readonly commands: readonly string[];
  /** Where the agent reports the flow (up, or error: <reason>). */
  readonly statusKey: string;
}

/** The host's spp_mirror: its lifecycle (the NIC machine's states and tags), its configured components, its last status. */
export interface MirrorView {
  readonly secId: number;
  readonly state: string;
  readonly tags: readonly NicTag[];
  readonly lastError?: string;
  readonly status?: MirrorStatus;
  /** The configuration's mirror list: component mirror_<k> on its core with its two rings [service side, source side]. */
  readonly components: readonly { readonly mirrorId: number; readonly name: string; readonly core: number; readonly ports: readonly string[] }[];
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
  /** Tap flows (TaaS), by flow id (the controller always sets it; views recorded before TaaS lack it). */
  readonly taps?: readonly TapView[];
  /** The host's spp_mirror; absent when the configuration lists no mirror. */
  readonly mirror?: MirrorView;
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
