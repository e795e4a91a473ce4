/**
 * The agent machine: the daemon's own lifecycle (etcd connection, host
 * configuration, running, degraded, refused, stopping), as data for logs and the
 * visualizer. The daemon feeds it events; it performs no I/O.
 */
import { assign, setup } from 'xstate';

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
  | { readonly type: 'STOP' }
  | { readonly type: 'STOPPED' };

export const agentMachine = setup({
  types: { context: {} as AgentContext, events: {} as AgentEvent, input: {} as { host: string } },
  guards: {
    configured: ({ context }) => context.configuration === 'valid',
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({ host: input.host, etcdConnected: false, configuration: 'missing' }),
  initial: 'connecting',
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
      on: { STOPPED: 'stopped', ETCD_UP: {}, ETCD_DOWN: {}, ETCD_REFUSED: {}, CONFIGURATION: {} },
    },
    stopped: { type: 'final' },
  },
});
