/**
 * The NIC machine: owns one spp_vf's lifecycle as the agent sees it. It waits
 * for spp-ctl to list the vf, builds the component layout (only what is
 * missing), then keeps it true with a periodic resync and after failures.
 * Ports on the NIC run their commands only while it is `ready`.
 */
import { assign, fromPromise, setup } from 'xstate';
import { backoffMs } from '../src/protocol/retry';
import { classify } from './errors';
import type { NicTag } from './tags';

export interface NicInput {
  readonly secId: number;
  readonly resyncIntervalMs: number;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /**
   * Who runs the machine (the agent: its host's NicLifecycle), handed to the
   * provided actors and actions in their inputs, so that one provided machine
   * serves every host of a process. Opaque here.
   */
  readonly owner?: unknown;
}

/** What every actor and action of the NIC machine is given. */
export interface NicRunInput {
  readonly secId: number;
  readonly owner: unknown;
}

export interface NicContext {
  readonly secId: number;
  readonly resyncIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  readonly attempts: number;
  readonly lastError?: string;
  /** Commands the last build or resync sent. */
  readonly lastCommands: readonly string[];
  /** NicInput.owner, passed on to every actor's input and action. */
  readonly owner: unknown;
}

export type NicEvent =
  /** A command failed in a way that suggests the vf restarted or changed under us. */
  { readonly type: 'RESYNC_NEEDED'; readonly reason: string } | { readonly type: 'STOP' };

export interface NicRunOutput {
  readonly commands: readonly string[];
}

function notProvided(name: string): never {
  throw new Error(`nic machine: actor ${name} was not provided`);
}

export const nicMachine = setup({
  types: { context: {} as NicContext, events: {} as NicEvent, input: {} as NicInput, tags: {} as NicTag },
  actors: {
    /** Resolves once spp-ctl answers and lists the vf in /v1/processes. */
    waitForVf: fromPromise<void, NicRunInput>(async () => notProvided('waitForVf')),
    /** Reads the vf status and starts/attaches what the layout lacks. */
    build: fromPromise<NicRunOutput, NicRunInput>(async () => notProvided('build')),
  },
  actions: {
    /** The vf is usable: release ports waiting on it and let them re-plan. */
    announceReady: (_: unknown, _params: NicRunInput) => {},
    announceNotReady: (_: unknown, _params: NicRunInput & { reason: string }) => {},
  },
  delays: {
    backoff: ({ context }) => backoffMs(context.attempts, context.backoffBaseMs, context.backoffMaxMs),
    resync: ({ context }) => context.resyncIntervalMs,
  },
}).createMachine({
  id: 'nic',
  context: ({ input }) => ({
    secId: input.secId,
    resyncIntervalMs: input.resyncIntervalMs,
    backoffBaseMs: input.backoffBaseMs ?? 250,
    backoffMaxMs: input.backoffMaxMs ?? 10_000,
    attempts: 0,
    lastCommands: [],
    owner: input.owner,
  }),
  initial: 'waitingForVf',
  on: { STOP: '.stopped' },
  states: {
    waitingForVf: {
      tags: 'busy',
      invoke: {
        src: 'waitForVf',
        input: ({ context }) => ({ secId: context.secId, owner: context.owner }),
        onDone: { target: 'building', actions: assign({ attempts: 0 }) },
        onError: {
          target: 'retryWait',
          actions: assign({ lastError: ({ event }) => classify(event.error).message, attempts: ({ context }) => context.attempts + 1 }),
        },
      },
    },
    building: {
      tags: ['busy', 'running'],
      invoke: {
        src: 'build',
        input: ({ context }) => ({ secId: context.secId, owner: context.owner }),
        onDone: {
          target: 'ready',
          actions: assign({ attempts: 0, lastError: undefined, lastCommands: ({ event }) => event.output.commands }),
        },
        onError: {
          target: 'retryWait',
          actions: assign({ lastError: ({ event }) => classify(event.error).message, attempts: ({ context }) => context.attempts + 1 }),
        },
      },
    },
    retryWait: {
      tags: 'retrying',
      entry: { type: 'announceNotReady', params: ({ context }) => ({ secId: context.secId, owner: context.owner, reason: context.lastError ?? 'unknown' }) },
      after: { backoff: 'waitingForVf' },
    },
    ready: {
      tags: 'up',
      entry: { type: 'announceReady', params: ({ context }) => ({ secId: context.secId, owner: context.owner }) },
      after: { resync: 'building' },
      on: {
        RESYNC_NEEDED: {
          target: 'building',
          actions: [
            assign({ lastError: ({ event }) => event.reason }),
            { type: 'announceNotReady', params: ({ context, event }) => ({ secId: context.secId, owner: context.owner, reason: event.reason }) },
          ],
        },
      },
    },
    stopped: { type: 'final', tags: 'stopped' },
  },
});

export type NicMachine = typeof nicMachine;
