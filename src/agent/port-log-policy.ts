/**
 * At which level a port machine's state change is logged. An operator reads
 * the info lines as the port's story: a retry loop, a transition a line
 * before already told, or the routine step through `evaluating` would only
 * repeat it, so those go to debug. Pure: the caller keeps the memory.
 */
import type { LogLevel } from '../log';

export interface PortTransition {
  /** The state before ('' for the machine's first). */
  readonly from: string;
  readonly state: string;
  readonly lastError: string | undefined;
  /** The run that just ended logged its outcome (`port is up`, `port unplugged`). */
  readonly outcomeLogged: 'up' | 'unplugged' | undefined;
  /** The agent is stopping: the machines' last moves are not news. */
  readonly stopping: boolean;
}

export interface PortLogDecision {
  readonly level: LogLevel;
  /** The error of the retry loop the port is in, for the next transition. */
  readonly lastBackoffError: string | undefined;
}

/** `lastBackoffError`: what the previous decision returned (undefined for the first). */
export function portStateLogLevel(t: PortTransition, lastBackoffError: string | undefined): PortLogDecision {
  const { from, state } = t;
  // A retry loop shows as backoff -> evaluating -> plugging -> backoff:
  // log the loop once per distinct error, the rest at debug.
  const repeated = state === 'backoff' && t.lastError === lastBackoffError;
  let loopError = lastBackoffError;
  if (state === 'backoff') loopError = t.lastError;
  else if (state !== 'evaluating' && state !== 'plugging' && state !== 'unplugging') loopError = undefined;
  // plugging -> plugged after `port is up`, unplugging -> removed (or idle,
  // the keys being gone already) after `port unplugged`, and removed -> idle:
  // the line before already said it
  const said = t.outcomeLogged === 'up' ? state.startsWith('plugged') : t.outcomeLogged === 'unplugged' && (state === 'removed' || state === 'idle');
  const quiet =
    t.stopping ||
    repeated ||
    said ||
    state === 'evaluating' ||
    (state === 'idle' && from === 'removed') ||
    (loopError !== undefined && (state === 'plugging' || state === 'unplugging'));
  const level: LogLevel = quiet ? 'debug' : state.startsWith('failed') ? 'error' : state === 'backoff' ? 'warn' : 'info';
  return { level, lastBackoffError: loopError };
}
