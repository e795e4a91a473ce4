/**
 * Whether the agent is ready (/readyz), with the reason when it is not, in
 * one short sentence. Pure: the daemon gathers the facts.
 */
import type { NicView } from '../agent/view';
import { driftRemedy } from '../plan/drift';
import { printable } from '../protocol/printable';

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
  /** The configuration as last read; while `invalid` a running agent keeps its last valid layout, but it is not ready. */
  readonly configuration?: 'missing' | 'invalid' | 'valid';
  readonly configurationErrors?: readonly string[];
}

/** A reason longer than this is cut: a probe's answer is read by people and logged by kubelets. */
const REASON_MAX = 600;

/** Ready, with what an operator should still know (an spp_vf built from another layout); or not, with why. */
export type Readiness = { readonly ready: true; readonly warnings?: readonly string[] } | { readonly ready: false; readonly reason: string };

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
  if (f.configuration === 'invalid') {
    const errors = printable((f.configurationErrors ?? []).join('; ') || 'no reason given');
    const keeping = f.agentState === 'running' ? ' (the agent keeps its last valid layout)' : '';
    const reason = `configuration/${f.host} is invalid${keeping}: ${errors}`;
    return not(reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX)}...` : reason);
  }
  if (f.agentState === 'waitingForConfiguration') return not(`waiting for a valid configuration/${f.host} in etcd`);
  const waiting = f.nics.filter((n) => !n.tags.includes('up'));
  if (waiting.length > 0) {
    return not(waiting.map((n) => `spp_vf ${n.secId} is ${n.state}${n.lastError ? ` (${n.lastError})` : ''}`).join('; '));
  }
  if (f.agentState !== 'running') return not(`agent state ${f.agentState}`);
  // a vf built from another layout still plugs ports: ready, but it says so and what to do
  const warnings = f.nics.flatMap((n) => (n.drift && n.drift.length > 0 ? [`${n.drift.join('; ')}. ${driftRemedy(n.secId)}`] : []));
  return warnings.length > 0 ? { ready: true, warnings } : { ready: true };
}
