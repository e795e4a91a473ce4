/**
 * xstate's `fromPromise`, except that the AbortController behind `signal` is
 * made only when a run reads it. The controller's runs never do (a command
 * sent to spp-ctl cannot be taken back), and every invoked run is an actor of
 * its own: one AbortController per plug, unplug and NIC build was about 2 % of
 * the replay's CPU. Same snapshots, same events, same stop behaviour.
 */
import type { ActorSystem, AnyActorRef, EventObject, PromiseActorLogic, PromiseSnapshot } from 'xstate';

/** xstate's own event types for a promise actor (XSTATE_PROMISE_RESOLVE, XSTATE_PROMISE_REJECT, XSTATE_STOP). */
const RESOLVE = 'xstate.promise.resolve';
const REJECT = 'xstate.promise.reject';
const STOP = 'xstate.stop';

export interface PromiseRunArgs<TInput> {
  readonly input: TInput;
  readonly system: ActorSystem<any>;
  readonly self: AnyActorRef;
  /** Aborted when the actor is stopped; made on first read. */
  readonly signal: AbortSignal;
  readonly emit: (event: EventObject) => void;
}

/** The system's event relay (internal to xstate, not in its typings): what fromPromise sends its own outcome through. */
type Relay = { _relay(source: AnyActorRef, target: AnyActorRef, event: EventObject & Record<string, unknown>): void };

/** Abort controllers of the runs that asked for a signal. */
const controllers = new WeakMap<object, AbortController>();

export function lazySignalPromise<TOutput, TInput = unknown>(run: (args: PromiseRunArgs<TInput>) => PromiseLike<TOutput>): PromiseActorLogic<TOutput, TInput> {
  return {
    config: run,
    transition: (state, event, scope) => {
      if (state.status !== 'active') return state;
      switch (event.type) {
        case RESOLVE:
          return { ...state, status: 'done', output: (event as { data?: TOutput }).data, input: undefined } as PromiseSnapshot<TOutput, TInput>;
        case REJECT:
          return { ...state, status: 'error', error: (event as { data?: unknown }).data, input: undefined } as PromiseSnapshot<TOutput, TInput>;
        case STOP:
          controllers.get(scope.self)?.abort();
          controllers.delete(scope.self);
          return { ...state, status: 'stopped', input: undefined } as PromiseSnapshot<TOutput, TInput>;
        default:
          return state;
      }
    },
    start: (state, { self, system, emit }) => {
      if (state.status !== 'active') return;
      const args: PromiseRunArgs<TInput> = {
        input: state.input as TInput,
        system,
        self,
        get signal(): AbortSignal {
          let controller = controllers.get(self);
          if (!controller) {
            controller = new AbortController();
            controllers.set(self, controller);
          }
          return controller.signal;
        },
        emit,
      };
      Promise.resolve(run(args)).then(
        (data) => {
          if (self.getSnapshot().status !== 'active') return;
          controllers.delete(self);
          (system as unknown as Relay)._relay(self, self, { type: RESOLVE, data });
        },
        (data: unknown) => {
          if (self.getSnapshot().status !== 'active') return;
          controllers.delete(self);
          (system as unknown as Relay)._relay(self, self, { type: REJECT, data });
        },
      );
    },
    getInitialSnapshot: (_, input) => ({ status: 'active', output: undefined, error: undefined, input }) as PromiseSnapshot<TOutput, TInput>,
    getPersistedSnapshot: (snapshot) => snapshot,
    restoreSnapshot: (snapshot) => snapshot as PromiseSnapshot<TOutput, TInput>,
  };
}
