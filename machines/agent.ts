/**
 * The agent machine: the daemon's own lifecycle (etcd connection, host
 * configuration, running, degraded, refused, stopping), as data for logs and the
 * visualizer. It owns the work through injected actors, as the port and NIC
 * machines do: `session` (take the host lock, then list and watch; it sends
 * what etcd says back as events) runs from start to stop, and `shutdown`
 * (stop the controller, revoke the lease, release the lock) is what
 * `stopping` does before `stopped`.
 */
import { assign, fromCallback, fromPromise, setup } from 'xstate';

export interface AgentContext {
  readonly host: string;
  readonly etcdConnected: boolean;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly reason?: string;
}

export type AgentEvent =
  | { readonly type: 'ETCD_UP' }
  | { readonly type: 'ETCD_DOWN'; readonly reason: string }
  /** etcd refused a list, watch or write for a reason retrying cannot fix (a missing grant, bad credentials). */
  | { readonly type: 'ETCD_REFUSED'; readonly reason: string }
  | { readonly type: 'CONFIGURATION'; readonly state: 'missing' | 'invalid' | 'valid' }
  | { readonly type: 'STOP' };

function notProvided(name: string): never {
  throw new Error(`agent machine: actor ${name} was not provided`);
}

export const agentMachine = setup({
  types: { context: {} as AgentContext, events: {} as AgentEvent, input: {} as { host: string } },
  actors: {
    /** Takes the host lock, then lists and watches the host's keys; sends ETCD_UP/DOWN/REFUSED and CONFIGURATION. */
    session: fromCallback<AgentEvent>(() => notProvided('session')),
    /** Stops the controller (in-flight commands end), revokes the lease, releases the lock. */
    shutdown: fromPromise<void>(async () => notProvided('shutdown')),
  },
  guards: {
    configured: ({ context }) => context.configuration === 'valid',
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({ host: input.host, etcdConnected: false, configuration: 'missing' }),
  initial: 'connecting',
  invoke: { src: 'session' },
  on: {
    ETCD_UP: { actions: assign({ etcdConnected: true, reason: undefined }) },
    ETCD_DOWN: { actions: assign({ etcdConnected: false, reason: ({ event }) => event.reason }) },
    CONFIGURATION: { actions: assign({ configuration: ({ event }) => event.state }) },
    ETCD_REFUSED: { target: '.refused', actions: assign({ etcdConnected: false, reason: ({ event }) => event.reason }) },
    STOP: '.stopping',
  },
  states: {
    connecting: {
      on: {
        CONFIGURATION: [
          { guard: ({ event }) => event.state === 'valid', target: 'running', actions: assign({ configuration: 'valid' }) },
          { target: 'waitingForConfiguration', actions: assign({ configuration: ({ event }) => event.state }) },
        ],
      },
    },
    waitingForConfiguration: {
      on: {
        CONFIGURATION: { guard: ({ event }) => event.state === 'valid', target: 'running', actions: assign({ configuration: 'valid' }) },
      },
    },
    running: {
      on: { ETCD_DOWN: { target: 'degraded', actions: assign({ etcdConnected: false, reason: ({ event }) => event.reason }) } },
    },
    degraded: {
      on: { ETCD_UP: { target: 'running', actions: assign({ etcdConnected: true, reason: undefined }) } },
    },
    // Blind until an operator fixes the grants or credentials; the agent retries with a long backoff.
    refused: {
      on: {
        ETCD_UP: [
          { guard: 'configured', target: 'running', actions: assign({ etcdConnected: true, reason: undefined }) },
          { target: 'waitingForConfiguration', actions: assign({ etcdConnected: true, reason: undefined }) },
        ],
      },
    },
    stopping: {
      invoke: { src: 'shutdown', onDone: 'stopped', onError: 'stopped' },
      on: { STOP: {}, ETCD_UP: {}, ETCD_DOWN: {}, ETCD_REFUSED: {}, CONFIGURATION: {} },
    },
    stopped: { type: 'final' },
  },
});
