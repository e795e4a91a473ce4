/**
 * Whether the agent is ready (/readyz), with the reason when it is not, in
 * one short sentence. Pure: the daemon gathers the facts.
 */
import type { NicView } from '../agent/view';

export interface ReadinessFacts {
  readonly host: string;
  readonly stopping: boolean;
  readonly lockHeld: boolean;
  /** Another agent holds the host lock (we stand by). */
  readonly standingBy: boolean;
  /** machines/agent.ts state: connecting, waitingForConfiguration, running, degraded, refused, stopping. */
  readonly agentState: string;
  readonly agentReason?: string;
  /** What the agent's etcd client last failed with, while it does (src/etcd/health.ts causeText). */
  readonly etcdCause?: string;
  /** The host's keys were listed and the watches started (a reset came). */
  readonly listed: boolean;
  readonly nics: readonly NicView[];
}

export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

export function readiness(f: ReadinessFacts): Readiness {
  const not = (reason: string): Readiness => ({ ready: false, reason });
  if (f.stopping || f.agentState === 'stopping' || f.agentState === 'stopped') return not('the agent is stopping');
  if (!f.lockHeld) {
    if (f.standingBy) return not(`standing by: another agent holds the host lock agent-lock/${f.host}`);
    return not(`taking the host lock agent-lock/${f.host}${f.etcdCause ? `: ${f.etcdCause}` : ''}`);
  }
  if (f.agentState === 'refused') return not(`etcd refused the agent: ${f.agentReason ?? 'unknown reason'}`);
  if (f.agentState === 'degraded') return not(`etcd unreachable: ${f.etcdCause ?? f.agentReason ?? 'connection lost'}`);
  if (!f.listed || f.agentState === 'connecting') return not("the host's keys are not listed and watched yet");
  if (f.agentState === 'waitingForConfiguration') return not(`waiting for a valid configuration/${f.host} in etcd`);
  const waiting = f.nics.filter((n) => n.state !== 'ready');
  if (waiting.length > 0) {
    return not(waiting.map((n) => `spp_vf ${n.secId} is ${n.state}${n.lastError ? ` (${n.lastError})` : ''}`).join('; '));
  }
  if (f.agentState !== 'running') return not(`agent state ${f.agentState}`);
  return { ready: true };
}
