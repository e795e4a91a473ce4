/**
 * The port machine: one per neutron port on this host. It holds the port's
 * desired state (its intent, derived from etcd) and what was last observed
 * of its vhost, and decides what to do next. All I/O (spp-ctl commands, etcd
 * writes) comes in as injected actors and actions, so the daemon, the replay
 * tool and the visualizer run this very definition.
 */
import { assign, fromPromise, setup } from 'xstate';
import { type PortIntent, sameIntent } from '../src/plan/desired';
import type { VhostObserved } from '../src/plan/observed';
import { backoffMs } from '../src/protocol/retry';
import { classify } from './errors';
import { failedReporting } from './failed-reporting';
import type { PortTag } from './tags';

export interface PortTimers {
  /** Delays (ms) after a plug at which `up` is put again while the action is still plug (driver race; docs/protocol.md). */
  readonly reassertMs: readonly number[];
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_PORT_TIMERS: PortTimers = { reassertMs: [250], backoffBaseMs: 500, backoffMaxMs: 30_000 };

export interface PortInput {
  readonly host: string;
  readonly portId: string;
  readonly intent: PortIntent;
  readonly revision: number;
  readonly timers?: PortTimers;
  /** Whether the spp_vf of the intent's vhost is built and usable (default true). */
  readonly nicReady?: boolean;
  /**
   * Who runs the machine (the agent: its host's PortSync), handed to the
   * provided actors and actions in their inputs, so that one provided machine
   * serves every host of a process. Opaque here.
   */
  readonly owner?: unknown;
}

export interface PortContext {
  readonly host: string;
  readonly portId: string;
  /** Desired: what etcd asks for now. */
  readonly intent: PortIntent;
  /** Observed: the vhost's state after the last command run. */
  readonly observed?: VhostObserved;
  readonly lastError?: string;
  readonly attempts: number;
  /** Desired or observed changed while a run was in flight: evaluate again when it ends. */
  readonly dirty: boolean;
  readonly revision: number;
  readonly reassertIndex: number;
  readonly timers: PortTimers;
  /** Observed: the spp_vf of the intent's vhost is built and usable. */
  readonly nicReady: boolean;
  /** PortInput.owner, passed on to every actor's input and to reassertUp. */
  readonly owner: unknown;
}

export type PortEvent =
  /** `nicReady`: whether the new intent's spp_vf is usable (unchanged when absent). */
  | { readonly type: 'DESIRED'; readonly intent: PortIntent; readonly revision: number; readonly nicReady?: boolean }
  /** The vf was rebuilt or re-read: the observed side may have changed. */
  | { readonly type: 'RESYNC' }
  /** The spp_vf of the port's vhost became usable, or stopped being usable. */
  | { readonly type: 'NIC_STATE'; readonly ready: boolean };

export interface PlugInput {
  readonly host: string;
  readonly portId: string;
  readonly intent: Extract<PortIntent, { kind: 'plug' }>;
  /** The etcd revision the plug was decided at (for the log and the history). */
  readonly revision: number;
  readonly owner: unknown;
}
export interface RunOutput {
  readonly observed?: VhostObserved;
  /** spp-ctl commands sent, in spp_vf text form. */
  readonly commands: readonly string[];
}
export interface UnplugInput {
  readonly host: string;
  readonly portId: string;
  readonly intent: Extract<PortIntent, { kind: 'unplug' }>;
  /** The etcd revision the unplug was decided at (for the log). */
  readonly revision: number;
  readonly owner: unknown;
}
export interface ReportInput {
  readonly host: string;
  readonly portId: string;
  readonly reason: string;
  readonly owner: unknown;
}

/** The error of an actor's error event (guards and actions see the machine's event union). */
function errorOf(event: unknown): unknown {
  return (event as { error?: unknown }).error;
}

function notProvided(name: string): never {
  throw new Error(`port machine: actor ${name} was not provided`);
}

/**
 * DESIRED in a state at rest (plugged, backoff, failed): the intent the port
 * already holds (plugged, retrying or reported) again only moves the revision;
 * a new one is evaluated.
 */
const AT_REST_DESIRED = [
  { guard: 'intentUnchanged', actions: 'takeRevision' },
  { target: 'evaluating', actions: 'takeDesired' },
] as const;

export const portMachine = setup({
  types: {
    context: {} as PortContext,
    events: {} as PortEvent,
    input: {} as PortInput,
    tags: {} as PortTag,
  },
  actors: {
    /** Runs the planned commands for the port's vhost and puts port_status = up. */
    plug: fromPromise<RunOutput, PlugInput>(async () => notProvided('plug')),
    /** Clears the vhost in spp_vf and removes the port's keys in one etcd transaction. */
    unplug: fromPromise<RunOutput, UnplugInput>(async () => notProvided('unplug')),
    /** Puts port_status = error: <reason>. */
    reportError: fromPromise<void, ReportInput>(async () => notProvided('reportError')),
  },
  actions: {
    /** Puts port_status = up again if the action is still plug (the original driver may have missed it). */
    reassertUp: (_: unknown, _params: { host: string; portId: string; owner: unknown }) => {},
    /** A run failed for good: keep why. */
    recordFailure: assign({ lastError: ({ event }) => classify(errorOf(event)).message }),
    /** A run failed and will be retried: keep why and count the attempt (the backoff grows with it). */
    recordRetry: assign({ lastError: ({ event }) => classify(errorOf(event)).message, attempts: ({ context }) => context.attempts + 1 }),
    /** Desired state changed: take it. */
    takeDesired: assign(({ context, event }) =>
      event.type === 'DESIRED' ? { intent: event.intent, revision: event.revision, nicReady: event.nicReady ?? context.nicReady } : {},
    ),
    /** Desired state changed while a run is in flight: take it, and evaluate again when the run ends. */
    deferDesired: assign(({ context, event }) =>
      event.type === 'DESIRED'
        ? { intent: event.intent, revision: event.revision, nicReady: event.nicReady ?? context.nicReady, dirty: true }
        : { dirty: true },
    ),
    /** A repeated intent: only the revision it was seen at moves. */
    takeRevision: assign({ revision: ({ context, event }) => (event.type === 'DESIRED' ? event.revision : context.revision) }),
    resetAttempts: assign({ attempts: 0 }),
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
    takeNicState: assign({ nicReady: ({ context, event }) => (event.type === 'NIC_STATE' ? event.ready : context.nicReady) }),
  },
  guards: {
    isInvalid: ({ context }) => context.intent.kind === 'invalid',
    isPlug: ({ context }) => context.intent.kind === 'plug',
    isUnplug: ({ context }) => context.intent.kind === 'unplug',
    isDirty: ({ context }) => context.dirty,
    /**
     * The port's vhost is on an spp_vf that is not built or not usable yet:
     * every agent start meets it. The port waits for NIC_STATE instead of
     * failing a run and backing off.
     */
    nicNotReady: ({ context }) =>
      !context.nicReady && (context.intent.kind === 'plug' || (context.intent.kind === 'unplug' && context.intent.place !== undefined)),
    isPermanent: ({ event }) => classify(errorOf(event)).permanent,
    /**
     * The vf lost the NIC's layout (restart): the NIC is being rebuilt, and
     * the port runs again once it announces ready, as at start-up.
     */
    isNicLevel: ({ event }) => classify(errorOf(event)).waitForNic,
    /**
     * A repeated event: the intent equals the one the port holds, the last
     * delivered. Not the last one plugged: in backoff that is an older intent,
     * and taking it for "unchanged" would retry the newer one etcd no longer asks for.
     */
    intentUnchanged: ({ context, event }) => event.type === 'DESIRED' && sameIntent(event.intent, context.intent),
    /** The failure came from spp_vf, not from the port's keys: a rebuilt vf may accept the plan. */
    notBadInput: ({ context }) => context.intent.kind !== 'invalid',
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.attempts, context.timers.backoffBaseMs, context.timers.backoffMaxMs),
    reassert: ({ context }) => {
      const schedule = context.timers.reassertMs;
      const at = schedule[context.reassertIndex] ?? 0;
      return at - (schedule[context.reassertIndex - 1] ?? 0);
    },
  },
}).createMachine({
  id: 'port',
  context: ({ input }) => ({
    host: input.host,
    portId: input.portId,
    intent: input.intent,
    attempts: 0,
    dirty: false,
    revision: input.revision,
    reassertIndex: 0,
    timers: input.timers ?? DEFAULT_PORT_TIMERS,
    nicReady: input.nicReady ?? true,
    owner: input.owner,
  }),
  // the NIC's state is kept in whatever state the port is in; only a waiting port acts on it
  on: { NIC_STATE: { actions: 'takeNicState' } },
  initial: 'evaluating',
  states: {
    evaluating: {
      tags: ['busy', 'deciding'],
      entry: assign({ dirty: false }),
      always: [
        { guard: 'isInvalid', target: 'failed' },
        { guard: 'nicNotReady', target: 'waitingForNic' },
        { guard: 'isPlug', target: 'plugging' },
        { guard: 'isUnplug', target: 'unplugging' },
        { target: 'idle' },
      ],
    },
    idle: {
      tags: 'free',
      on: {
        DESIRED: { target: 'evaluating', actions: 'takeDesired' },
      },
    },
    waitingForNic: {
      tags: 'waiting',
      on: {
        NIC_STATE: { target: 'evaluating', actions: 'takeNicState' },
        RESYNC: 'evaluating',
        DESIRED: { target: 'evaluating', actions: 'takeDesired' },
      },
    },
    plugging: {
      tags: ['busy', 'running'],
      invoke: {
        src: 'plug',
        input: ({ context }) => ({
          host: context.host,
          portId: context.portId,
          intent: context.intent as Extract<PortIntent, { kind: 'plug' }>,
          revision: context.revision,
          owner: context.owner,
        }),
        onDone: [
          {
            guard: 'isDirty',
            target: 'evaluating',
            actions: assign({ observed: ({ event }) => event.output.observed, attempts: 0, lastError: undefined }),
          },
          {
            target: 'plugged',
            actions: assign({
              observed: ({ event }) => event.output.observed,
              attempts: 0,
              lastError: undefined,
              reassertIndex: 0,
            }),
          },
        ],
        onError: [
          { guard: 'isPermanent', target: 'failed', actions: 'recordFailure' },
          { guard: 'isNicLevel', target: 'waitingForNic', actions: ['recordFailure', assign({ nicReady: false })] },
          { target: 'backoff', actions: 'recordRetry' },
        ],
      },
      on: { DESIRED: { actions: 'deferDesired' }, RESYNC: { actions: 'deferDesired' } },
    },
    plugged: {
      tags: 'up',
      initial: 'reasserting',
      states: {
        reasserting: {
          always: { guard: ({ context }) => context.reassertIndex >= context.timers.reassertMs.length, target: 'steady' },
          after: {
            reassert: {
              target: 'reasserting',
              reenter: true,
              actions: [
                { type: 'reassertUp', params: ({ context }) => ({ host: context.host, portId: context.portId, owner: context.owner }) },
                assign({ reassertIndex: ({ context }) => context.reassertIndex + 1 }),
              ],
            },
          },
        },
        steady: {},
      },
      on: {
        DESIRED: AT_REST_DESIRED,
        RESYNC: { target: 'evaluating' },
      },
    },
    unplugging: {
      tags: ['busy', 'running', 'removing'],
      invoke: {
        src: 'unplug',
        input: ({ context }) => ({
          host: context.host,
          portId: context.portId,
          intent: context.intent as Extract<PortIntent, { kind: 'unplug' }>,
          revision: context.revision,
          owner: context.owner,
        }),
        onDone: [
          { guard: 'isDirty', target: 'evaluating', actions: assign({ attempts: 0, lastError: undefined }) },
          { target: 'removed', actions: assign({ observed: ({ event }) => event.output.observed, attempts: 0, lastError: undefined }) },
        ],
        onError: [
          { guard: 'isPermanent', target: 'failed', actions: 'recordFailure' },
          { guard: 'isNicLevel', target: 'waitingForNic', actions: ['recordFailure', assign({ nicReady: false })] },
          { target: 'backoff', actions: 'recordRetry' },
        ],
      },
      on: { DESIRED: { actions: 'deferDesired' }, RESYNC: { actions: 'deferDesired' } },
    },
    backoff: {
      tags: 'retrying',
      after: { backoff: 'evaluating' },
      on: {
        DESIRED: AT_REST_DESIRED,
        RESYNC: { target: 'evaluating' },
      },
    },
    failed: {
      tags: 'failed',
      initial: 'reporting',
      entry: assign({
        lastError: ({ context }) => (context.intent.kind === 'invalid' ? context.intent.reason : context.lastError),
      }),
      states: failedReporting(({ context }: { context: PortContext }) => ({
        host: context.host,
        portId: context.portId,
        reason: context.lastError ?? 'unknown error',
        owner: context.owner,
      })),
      on: {
        DESIRED: [AT_REST_DESIRED[0], { target: 'evaluating', actions: ['takeDesired', 'resetAttempts'] }],
        // spp_vf changed under us (restart, rebuild): a rejection may not hold any more; bad input still does
        RESYNC: { guard: 'notBadInput', target: 'evaluating' },
      },
    },
    removed: {
      tags: 'free',
      on: {
        DESIRED: { target: 'evaluating', actions: 'takeDesired' },
      },
    },
  },
});

export type PortMachine = typeof portMachine;
