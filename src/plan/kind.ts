/**
 * The shape of a kind of thing the agent plugs (issue 28 item 5): its keys,
 * its slice of the layout, how its desired state is derived, what it needs
 * observed, how it is planned, described and drawn, as one object, so a new
 * kind is added in one place plus its tests. The tap flow is the first kind
 * written this way (src/plan/tap-kind.ts); the port predates it and keeps its
 * own modules.
 */
import type { KeyKind } from '../protocol/keys';

/** Where a thing of the kind acts: which processes, which components. */
export interface LayoutSlice {
  readonly vfs: readonly number[];
  readonly mirror?: number;
  /** `process/component`, e.g. `vf 2/forward_2_tx`, `mirror 3/mirror_0`. */
  readonly components: readonly string[];
}

/** A port of a component that a thing of the kind adds or takes, for drawings: `vf 2`, `forward_2_tx`, `ring:4`, `rx`. */
export interface DrawHint {
  readonly process: string;
  readonly component: string;
  readonly port: string;
  readonly dir: 'rx' | 'tx';
  /** `adds`: the thing attaches it; `takes`: it detaches it from the layout. */
  readonly change: 'adds' | 'takes';
  /** The words a drawing writes beside the port (the kind knows what the port carries; the drawing only places them). */
  readonly lines: readonly string[];
}

export interface Kind<Facts, Keys, Intent, Desired, Observed, Step> {
  /** What the logs and views call one thing of the kind. */
  readonly name: string;
  /** The etcd key kinds it reads and writes (all within the host's watched ranges). */
  readonly keyKinds: readonly KeyKind[];
  /** Every thing's intent from its keys and the host's facts (pure, level-triggered). */
  readonly intents: (facts: Facts, keys: readonly Keys[]) => Map<string, Intent>;
  /** The one test of "the desired state changed". */
  readonly sameIntent: (a: Intent, b: Intent) => boolean;
  readonly describe: (intent: Intent) => string;
  readonly slice: (desired: Desired) => LayoutSlice;
  /** The steps still needed to make `desired` present or absent, given what is observed. */
  readonly plan: (desired: Desired, want: 'present' | 'absent', observed: Observed) => Step[];
  readonly draw: (desired: Desired) => DrawHint[];
}
