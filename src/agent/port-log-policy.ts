/**
 * At which level a port machine's state change is logged. An operator reads
 * the info lines as the port's story: a retry loop, a transition a line
 * before already told, or the routine step through `evaluating` would only
 * repeat it, so those go to debug. Pure: the caller keeps the memory.
 */
import type { PortTag } from '../../machines/tags';
import type { LogLevel } from '../log';

export interface PortTransition {
  /** The state before ('' for the machine's first). */
  readonly from: string;
  readonly state: string;
  /** The tags of `from` (none for the first) and of `state`: the policy asks these, the names are for the line. */
  readonly fromTags: readonly PortTag[];
  readonly tags: readonly PortTag[];
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
  const is = (tag: PortTag): boolean => t.tags.includes(tag);
  // A retry loop shows as backoff -> evaluating -> plugging -> backoff:
  // log the loop once per distinct error, the rest at debug.
  const repeated = is('retrying') && t.lastError === lastBackoffError;
  let loopError = lastBackoffError;
  if (is('retrying')) loopError = t.lastError;
  else if (!is('deciding') && !is('running')) loopError = undefined;
  // plugging -> plugged after `port is up`, unplugging -> removed (or idle,
  // the keys being gone already) after `port unplugged`, and removed -> idle:
  // the line before already said it
  const said = t.outcomeLogged === 'up' ? is('up') : t.outcomeLogged === 'unplugged' && is('free');
  const quiet = t.stopping || repeated || said || is('deciding') || (is('free') && t.fromTags.includes('free')) || (loopError !== undefined && is('running'));
  const level: LogLevel = quiet ? 'debug' : is('failed') ? 'error' : is('retrying') ? 'warn' : 'info';
  return { level, lastBackoffError: loopError };
}
