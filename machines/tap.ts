/**
 * The tap flow machine: one per tap flow of the host (TaaS). Like the port
 * machine it holds the flow's desired state (its intent, from etcd) and
 * decides what to run; the runs (the planned vf and mirror commands, the
 * tap_status write, the clean-up) are injected actors.
 */
import { assign, fromPromise, setup } from 'xstate';
import { sameTapIntent, type TapIntent } from '../src/plan/tap-desired';
import { backoffMs } from '../src/protocol/retry';
import { classify } from './errors';
import { failedReporting } from './failed-reporting';
import type { TapTag } from './tags';

export interface TapInput {
  readonly host: string;
  readonly flowId: string;
  readonly intent: TapIntent;
  readonly revision: number;
  /** Whether the flow's vfs and the mirror are built and usable (default true). */
  readonly ready?: boolean;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

export interface TapContext {
  readonly host: string;
  readonly flowId: string;
  readonly intent: TapIntent;
  /** The intent last applied (or reported), to tell a change from a repeated event. */
  readonly applied?: TapIntent;
  readonly lastError?: string;
  readonly attempts: number;
  readonly dirty: boolean;
  readonly revision: number;
  readonly ready: boolean;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Commands the last run sent (text form). */
  readonly lastCommands: readonly string[];
}

export type TapEvent =
  | { readonly type: 'DESIRED'; readonly intent: TapIntent; readonly revision: number; readonly ready?: boolean }
  /** The flow's processes became usable, or stopped being usable. */
  | { readonly type: 'READY'; readonly ready: boolean }
  /** A vf or the mirror was rebuilt (restart): re-plan a flow that is in place. */
  | { readonly type: 'RESYNC' };

export interface TapRunInput {
  readonly host: string;
  readonly flowId: string;
  readonly intent: TapIntent;
  readonly revision: number;
}
export interface TapRunOutput {
  readonly commands: readonly string[];
}
export interface TapReportInput {
  readonly host: string;
  readonly flowId: string;
  readonly reason: string;
}

function notProvided(name: string): never {
  throw new Error(`tap machine: actor ${name} was not provided`);
}

const errorOf = (event: unknown): unknown => (event as { error?: unknown }).error;

const AT_REST_DESIRED = [
  { guard: 'intentUnchanged', actions: 'takeRevision' },
  { target: 'evaluating', actions: 'takeDesired' },
] as const;

const RUN_ERROR = [
  { guard: 'isPermanent', target: 'failed', actions: 'recordFailure' },
  { guard: 'isNotReady', target: 'waiting', actions: ['recordFailure', 'markNotReady'] },
  { target: 'backoff', actions: 'recordRetry' },
] as const;

export const tapMachine = setup({
  types: { context: {} as TapContext, events: {} as TapEvent, input: {} as TapInput, tags: {} as TapTag },
  actors: {
    /** Runs the plug plan, then puts tap_status = up. */
    plug: fromPromise<TapRunOutput, TapRunInput>(async () => notProvided('plug')),
    /** Runs the unplug plan, frees the mirrors, deletes the flow's keys. */
    unplug: fromPromise<TapRunOutput, TapRunInput>(async () => notProvided('unplug')),
    /** Puts tap_status = error: <reason>. */
    reportError: fromPromise<void, TapReportInput>(async () => notProvided('reportError')),
  },
  actions: {
    takeDesired: assign(({ context, event }) =>
      event.type === 'DESIRED' ? { intent: event.intent, revision: event.revision, ready: event.ready ?? context.ready } : {},
    ),
    deferDesired: assign(({ context, event }) =>
      event.type === 'DESIRED' ? { intent: event.intent, revision: event.revision, ready: event.ready ?? context.ready, dirty: true } : { dirty: true },
    ),
    takeRevision: assign({ revision: ({ context, event }) => (event.type === 'DESIRED' ? event.revision : context.revision) }),
    markNotReady: assign({ ready: false }),
    takeReady: assign({ ready: ({ context, event }) => (event.type === 'READY' ? event.ready : context.ready) }),
    recordFailure: assign({ lastError: ({ event }) => classify(errorOf(event)).message }),
    recordRetry: assign({ lastError: ({ event }) => classify(errorOf(event)).message, attempts: ({ context }) => context.attempts + 1 }),
    resetAttempts: assign({ attempts: 0 }),
    countAttempt: assign({ attempts: ({ context }) => context.attempts + 1 }),
  },
  guards: {
    isInvalid: ({ context }) => context.intent.kind === 'invalid',
    isPlug: ({ context }) => context.intent.kind === 'plug',
    isUnplug: ({ context }) => context.intent.kind === 'unplug',
    isDirty: ({ context }) => context.dirty,
    /** A run with commands needs its processes usable; an unplug of keys only does not. */
    notReady: ({ context }) => !context.ready && (context.intent.kind === 'plug' || (context.intent.kind === 'unplug' && context.intent.flow !== undefined)),
    isPermanent: ({ event }) => classify(errorOf(event)).permanent,
    isNotReady: ({ event }) => classify(errorOf(event)).waitForNic,
    intentUnchanged: ({ context, event }) => event.type === 'DESIRED' && sameTapIntent(event.intent, context.applied ?? context.intent),
    notBadInput: ({ context }) => context.intent.kind !== 'invalid',
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.attempts, context.backoffBaseMs, context.backoffMaxMs),
  },
}).createMachine({
  id: 'tap',
  context: ({ input }) => ({
    host: input.host,
    flowId: input.flowId,
    intent: input.intent,
    attempts: 0,
    dirty: false,
    revision: input.revision,
    ready: input.ready ?? true,
    backoffBaseMs: input.backoffBaseMs ?? 500,
    backoffMaxMs: input.backoffMaxMs ?? 30_000,
    lastCommands: [],
  }),
  on: { READY: { actions: 'takeReady' } },
  initial: 'evaluating',
  states: {
    evaluating: {
      tags: ['busy', 'deciding'],
      entry: assign({ dirty: false }),
      always: [
        { guard: 'isInvalid', target: 'failed' },
        { guard: 'notReady', target: 'waiting' },
        { guard: 'isPlug', target: 'plugging' },
        { guard: 'isUnplug', target: 'unplugging' },
        { target: 'idle' },
      ],
    },
    idle: { tags: 'free', on: { DESIRED: { target: 'evaluating', actions: 'takeDesired' } } },
    /** A vf of the flow or the mirror is not built yet (start-up, restart). */
    waiting: {
      tags: 'waiting',
      on: {
        READY: { target: 'evaluating', actions: 'takeReady' },
        RESYNC: 'evaluating',
        DESIRED: { target: 'evaluating', actions: 'takeDesired' },
      },
    },
    plugging: {
      tags: ['busy', 'running'],
      invoke: {
        src: 'plug',
        input: ({ context }) => ({ host: context.host, flowId: context.flowId, intent: context.intent, revision: context.revision }),
        onDone: [
          {
            guard: 'isDirty',
            target: 'evaluating',
            actions: assign({ attempts: 0, lastError: undefined, lastCommands: ({ event }) => event.output.commands }),
          },
          {
            target: 'up',
            actions: assign({
              applied: ({ context }) => context.intent,
              attempts: 0,
              lastError: undefined,
              lastCommands: ({ event }) => event.output.commands,
            }),
          },
        ],
        onError: RUN_ERROR,
      },
      on: { DESIRED: { actions: 'deferDesired' }, RESYNC: { actions: 'deferDesired' } },
    },
    up: {
      tags: 'up',
      on: { DESIRED: AT_REST_DESIRED, RESYNC: 'evaluating' },
    },
    unplugging: {
      tags: ['busy', 'running', 'removing'],
      invoke: {
        src: 'unplug',
        input: ({ context }) => ({ host: context.host, flowId: context.flowId, intent: context.intent, revision: context.revision }),
        onDone: [
          { guard: 'isDirty', target: 'evaluating', actions: assign({ applied: undefined, attempts: 0, lastError: undefined }) },
          {
            target: 'removed',
            actions: assign({ applied: undefined, attempts: 0, lastError: undefined, lastCommands: ({ event }) => event.output.commands }),
          },
        ],
        onError: RUN_ERROR,
      },
      on: { DESIRED: { actions: 'deferDesired' }, RESYNC: { actions: 'deferDesired' } },
    },
    backoff: {
      tags: 'retrying',
      after: { backoff: 'evaluating' },
      on: { DESIRED: AT_REST_DESIRED, RESYNC: 'evaluating' },
    },
    failed: {
      tags: 'failed',
      initial: 'reporting',
      entry: assign({
        lastError: ({ context }) => (context.intent.kind === 'invalid' ? context.intent.reason : context.lastError),
        applied: ({ context }) => context.intent,
      }),
      states: failedReporting(({ context }: { context: TapContext }) => ({
        host: context.host,
        flowId: context.flowId,
        reason: context.lastError ?? 'unknown error',
      })),
      on: {
        DESIRED: [AT_REST_DESIRED[0], { target: 'evaluating', actions: ['takeDesired', assign({ attempts: 0 })] }],
        RESYNC: { guard: 'notBadInput', target: 'evaluating' },
      },
    },
    removed: { tags: 'free', on: { DESIRED: { target: 'evaluating', actions: 'takeDesired' } } },
  },
});

export type TapMachine = typeof tapMachine;
