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

/** What of the agent's own etcd requests etcd can refuse: the host lock, the list-watch, the liveness key, the port writes. */
export type RefusalSource = 'lock' | 'watch' | 'liveness' | 'write';

export interface AgentContext {
  readonly host: string;
  readonly etcdConnected: boolean;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly reason?: string;
  /**
   * The sources etcd refuses now, with the reason. The agent is `refused`
   * while any is; a fixed read grant does not hide a missing write grant.
   */
  readonly refused: Readonly<Partial<Record<RefusalSource, string>>>;
}

export type AgentEvent =
  | { readonly type: 'ETCD_UP' }
  | { readonly type: 'ETCD_DOWN'; readonly reason: string }
  /** etcd refused a request of `source` for a reason retrying cannot fix (a missing grant, bad credentials). */
  | { readonly type: 'ETCD_REFUSED'; readonly source: RefusalSource; readonly reason: string }
  /** etcd accepted a request of `source` (a liveness put, a port write). */
  | { readonly type: 'ETCD_ACCEPTED'; readonly source: RefusalSource }
  | { readonly type: 'CONFIGURATION'; readonly state: 'missing' | 'invalid' | 'valid' }
  | { readonly type: 'STOP' };

function without(refused: AgentContext['refused'], ...sources: readonly RefusalSource[]): AgentContext['refused'] {
  const rest = { ...refused };
  for (const s of sources) delete rest[s];
  return rest;
}

const noneRefused = (refused: AgentContext['refused']): boolean => Object.keys(refused).length === 0;
const firstReason = (refused: AgentContext['refused']): string | undefined => Object.values(refused)[0];

/** Listed and watching again (so the lock and the watch are granted), and nothing else refused. */
const upLiftsAll = (context: AgentContext): boolean => noneRefused(without(context.refused, 'lock', 'watch'));

/** The accepted source was the last one refused, and the watch is up. */
const liftsTheLast = (context: AgentContext, event: AgentEvent): boolean =>
  event.type === 'ETCD_ACCEPTED' && event.source in context.refused && context.etcdConnected && noneRefused(without(context.refused, event.source));

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
    upLiftsAll: ({ context }) => upLiftsAll(context),
    upLiftsAllConfigured: ({ context }) => upLiftsAll(context) && context.configuration === 'valid',
    lifts: ({ context, event }) => event.type === 'ETCD_ACCEPTED' && event.source in context.refused,
    liftsTheLast: ({ context, event }) => liftsTheLast(context, event),
    liftsTheLastConfigured: ({ context, event }) => liftsTheLast(context, event) && context.configuration === 'valid',
  },
  actions: {
    // listed and watching: the lock is held and the watch is granted
    up: assign(({ context }) => {
      const refused = without(context.refused, 'lock', 'watch');
      return { etcdConnected: true, refused, reason: firstReason(refused) };
    }),
    accepted: assign(({ context, event }) => {
      const refused = event.type === 'ETCD_ACCEPTED' ? without(context.refused, event.source) : context.refused;
      return { refused, reason: firstReason(refused) };
    }),
  },
}).createMachine({
  id: 'agent',
  context: ({ input }) => ({ host: input.host, etcdConnected: false, configuration: 'missing', refused: {} }),
  initial: 'connecting',
  invoke: { src: 'session' },
  on: {
    ETCD_UP: { actions: 'up' },
    ETCD_DOWN: { actions: assign({ etcdConnected: false, reason: ({ event }) => event.reason }) },
    CONFIGURATION: { actions: assign({ configuration: ({ event }) => event.state }) },
    ETCD_REFUSED: {
      target: '.refused',
      actions: assign({
        // a refused write or liveness put leaves the watch as it was
        etcdConnected: ({ context, event }) => context.etcdConnected && event.source !== 'lock' && event.source !== 'watch',
        reason: ({ event }) => event.reason,
        refused: ({ context, event }) => ({ ...context.refused, [event.source]: event.reason }),
      }),
    },
    // only when it lifts something: a write accepted is the common case
    ETCD_ACCEPTED: { guard: 'lifts', actions: 'accepted' },
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
      on: { ETCD_UP: { target: 'running', actions: 'up' } },
    },
    // Blind (or mute) until an operator fixes the grants or credentials; the agent retries with a long backoff.
    // It leaves once nothing is refused any more and the watch is up.
    refused: {
      on: {
        ETCD_UP: [
          { guard: 'upLiftsAllConfigured', target: 'running', actions: 'up' },
          { guard: 'upLiftsAll', target: 'waitingForConfiguration', actions: 'up' },
          { actions: 'up' },
        ],
        ETCD_ACCEPTED: [
          { guard: 'liftsTheLastConfigured', target: 'running', actions: 'accepted' },
          { guard: 'liftsTheLast', target: 'waitingForConfiguration', actions: 'accepted' },
          { guard: 'lifts', actions: 'accepted' },
        ],
      },
    },
    stopping: {
      invoke: { src: 'shutdown', onDone: 'stopped', onError: 'stopped' },
      on: { STOP: {}, ETCD_UP: {}, ETCD_DOWN: {}, ETCD_REFUSED: {}, ETCD_ACCEPTED: {}, CONFIGURATION: {} },
    },
    stopped: { type: 'final' },
  },
});
