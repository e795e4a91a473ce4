/**
 * What the page says about each port, in the daemon's own words: the phase
 * a vhost is coloured by, the intent in words, the age in the current
 * state, the path of states taken, the timeline, and why the port is not up
 * as far as the view knows. Pure: the page only lays these out.
 */
import type { PortTag } from '../../machines/tags';
import type { ControllerView, HistoryEntry, NicView, PortView } from '../agent/view';
import type { Explanation } from '../explain/explain';
import type { PortIntent } from '../plan/desired';
import type { CompareRow } from './compare';

/**
 * The colour of a vhost and the word the page shows for a port's state (the
 * legend's words; the machine's state name is a detail): `retrying` is a
 * port whose last attempt failed and that tries again after a backoff, not
 * one still on its first try (`plugging`, `unplugging`).
 */
export type Phase = 'free' | 'plugging' | 'up' | 'retrying' | 'failed' | 'unplugging';

/** Every phase in the legend's order. */
export const PHASES: readonly Phase[] = ['free', 'plugging', 'up', 'retrying', 'failed', 'unplugging'];

export interface TimelineStep {
  readonly revision: number;
  readonly at: number;
  /** Time since the step before (undefined for the first). */
  readonly sinceMs?: number;
  readonly what: string;
  readonly state: string;
  readonly tags: readonly PortTag[];
  readonly commands: readonly string[];
  readonly error?: string;
}

export interface PortRow {
  readonly portId: string;
  readonly state: string;
  readonly phase: Phase;
  /** Failed, or on its way (plugging/unplugging): listed first. */
  readonly attention: boolean;
  readonly intentText: string;
  readonly secId?: number;
  readonly vhostId?: number;
  readonly mac?: string;
  readonly vlan?: number;
  /** How the vhost is to be wired, in words: `flat`, `vlan 100`, or `invalid request` (then nothing is programmed); absent when nothing is asked. */
  readonly binding?: string;
  /** When the port entered its current phase (a retrying port: its first attempt), if its history reaches back that far. */
  readonly since?: number;
  readonly ageMs?: number;
  readonly lastError?: string;
  /** Failed attempts in a row, when any. */
  readonly attempts?: number;
  /** Top-level states in the order the history saw them (repeats collapsed). */
  readonly path: readonly string[];
  readonly timeline: readonly TimelineStep[];
  /** Why the port is not up, as far as the view knows; empty when it is up or free. */
  readonly whyNotUp: readonly string[];
  /** What `spp explain` says of the port (a live agent's page, where the host's keys are at hand). */
  readonly explanation?: Explanation;
}

const topOf = (state: string): string => state.split('.')[0] ?? state;

/** A port's phase; a tap flow's too (its machine answers with the port's tags, its intent has the same kinds). */
export function phaseOf(port: {
  readonly tags: readonly PortTag[];
  readonly intent: { readonly kind: string };
  readonly attempts?: number | undefined;
}): Phase {
  const is = (tag: PortTag): boolean => port.tags.includes(tag);
  if (is('up')) return 'up';
  if (is('failed')) return 'failed';
  if (is('free')) return 'free';
  if (port.intent.kind === 'invalid') return 'failed';
  // a backoff, or the next try after one: the last attempt failed
  if (is('retrying') || (port.attempts ?? 0) > 0) return 'retrying';
  if (is('removing') || port.intent.kind === 'unplug') return 'unplugging';
  return 'plugging';
}

/** The phase a history entry's state stands for, as far as the state alone tells: the ones an age runs through. */
function effortOf(tags: readonly PortTag[]): string {
  if (tags.includes('up')) return 'up';
  if (tags.includes('failed')) return 'failed';
  if (tags.includes('free')) return 'free';
  // evaluating, waitingForNic, plugging, unplugging, backoff: one effort until it ends
  return 'working';
}

function bindingOf(intent: PortIntent): string | undefined {
  if (intent.kind === 'invalid') return 'invalid request';
  const rule = intent.kind === 'plug' ? intent.rule : intent.kind === 'unplug' ? intent.rule : undefined;
  if (!rule) return undefined;
  return rule.vlan !== undefined ? `vlan ${rule.vlan}` : 'flat';
}

/** The intent as the page words it (with its spp_vf); the history and the replay report use agent/view.ts describeIntent. */
function intentWords(i: PortIntent): string {
  switch (i.kind) {
    case 'idle':
      return `idle (${i.note})`;
    case 'plug':
      return `plug vhost ${i.place.vhostId} on spp_vf ${i.place.secId}: mac ${i.rule.mac}${i.rule.vlan !== undefined ? `, vlan ${i.rule.vlan}` : ''}`;
    case 'unplug':
      return i.place ? `unplug vhost ${i.place.vhostId} on spp_vf ${i.place.secId}` : 'unplug (no usable bind_port: keys only)';
    case 'invalid':
      return `invalid: ${i.reason}`;
  }
}

function placeOf(intent: PortIntent): { secId: number; vhostId: number; mac?: string; vlan?: number } | undefined {
  if (intent.kind === 'plug')
    return {
      secId: intent.place.secId,
      vhostId: intent.place.vhostId,
      mac: intent.rule.mac,
      ...(intent.rule.vlan !== undefined ? { vlan: intent.rule.vlan } : {}),
    };
  if (intent.kind === 'unplug' && intent.place) {
    return {
      secId: intent.place.secId,
      vhostId: intent.place.vhostId,
      ...(intent.rule ? { mac: intent.rule.mac, ...(intent.rule.vlan !== undefined ? { vlan: intent.rule.vlan } : {}) } : {}),
    };
  }
  return undefined;
}

/** When the current effort began: a retry does not restart the age (plugging, backoff, plugging... is one effort). */
function sinceOf(history: readonly HistoryEntry[], tags: readonly PortTag[]): number | undefined {
  const effort = effortOf(tags);
  let since: number | undefined;
  for (let i = history.length - 1; i >= 0; i--) {
    if (effortOf(history[i]!.tags) !== effort) break;
    since = history[i]!.at;
  }
  return since;
}

function pathOf(history: readonly HistoryEntry[], state: string): string[] {
  const path: string[] = [];
  for (const s of [...history.map((h) => h.state), state]) {
    const top = topOf(s);
    if (path[path.length - 1] !== top) path.push(top);
  }
  return path;
}

function whyNotUp(port: PortView, phase: Phase, nic: NicView | undefined, compare: readonly CompareRow[]): string[] {
  if (phase === 'up' || phase === 'free') {
    const differs = compare.filter((r) => !r.same);
    return differs.map((r) => `observed ${r.field} is ${r.observed}, desired ${r.desired}`);
  }
  const why: string[] = [];
  const is = (tag: PortTag): boolean => port.tags.includes(tag);
  if (port.intent.kind === 'invalid') why.push(`the request cannot be done: ${port.intent.reason}`);
  else if (port.intent.kind === 'idle') why.push(`nothing asked yet: ${port.intent.note}`);
  if (is('waiting') || (nic && !nic.tags.includes('up') && phase !== 'failed')) {
    why.push(`waiting for spp_vf ${nic?.secId ?? '?'}: NIC ${nic ? nic.state : 'unknown'}${nic?.lastError ? ` (${nic.lastError})` : ''}`);
  }
  if (is('running') && !is('removing')) why.push('spp-ctl commands in flight');
  if (is('removing')) why.push('unplug commands in flight');
  if (is('retrying') || phase === 'retrying') {
    why.push(
      `retrying after ${port.attempts ?? 1} failed attempt${(port.attempts ?? 1) === 1 ? '' : 's'}${port.lastError ? `; last error: ${port.lastError}` : ''}`,
    );
  } else if (port.lastError && port.intent.kind !== 'invalid') why.push(`last error: ${port.lastError}`);
  for (const r of compare) if (!r.same) why.push(`observed ${r.field} is ${r.observed}, desired ${r.desired}`);
  return why;
}

export function portRow(port: PortView, nic: NicView | undefined, compare: readonly CompareRow[], now: number): PortRow {
  const phase = phaseOf(port);
  const place = placeOf(port.intent);
  const since = sinceOf(port.history, port.tags);
  const binding = bindingOf(port.intent);
  const timeline = port.history.map((h, i): TimelineStep => {
    const prev = port.history[i - 1];
    return {
      revision: h.revision,
      at: h.at,
      ...(prev ? { sinceMs: h.at - prev.at } : {}),
      what: h.what,
      state: h.state,
      tags: h.tags,
      commands: h.commands ?? [],
      ...(h.error ? { error: h.error } : {}),
    };
  });
  return {
    portId: port.portId,
    state: port.state,
    phase,
    attention: phase !== 'up' && phase !== 'free',
    intentText: intentWords(port.intent),
    ...(place ?? {}),
    ...(binding !== undefined ? { binding } : {}),
    ...(since !== undefined ? { since, ageMs: Math.max(0, now - since) } : {}),
    ...(port.lastError ? { lastError: port.lastError } : {}),
    ...(port.attempts ? { attempts: port.attempts } : {}),
    path: pathOf(port.history, port.state),
    timeline,
    whyNotUp: whyNotUp(port, phase, nic, compare),
  };
}

const PHASE_ORDER: Record<Phase, number> = { failed: 0, retrying: 1, plugging: 2, unplugging: 2, up: 3, free: 4 };

/** Every port's row: failed first, then those not converged, then by port id. */
export function portRows(view: ControllerView, compare: Readonly<Record<string, readonly CompareRow[]>>, now: number): PortRow[] {
  const nics = new Map(view.nics.map((n) => [n.secId, n]));
  return view.ports
    .map((p) => {
      const place = p.intent.kind === 'plug' || p.intent.kind === 'unplug' ? p.intent.place : undefined;
      return portRow(p, place ? nics.get(place.secId) : undefined, compare[p.portId] ?? [], now);
    })
    .sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.portId.localeCompare(b.portId));
}

/** "now" for a view: the wall clock when live; for a replay frame, its latest recorded step. */
export function viewTime(view: ControllerView): number {
  let latest = 0;
  for (const p of view.ports) for (const h of p.history) latest = Math.max(latest, h.at);
  return latest;
}
