/**
 * Turns replay inputs into one ordered list of steps per host: the first
 * snapshot is a listing (`reset`), each later snapshot the puts and deletes
 * that lead from the previous state to it, and an event log its recorded
 * list-watch events. Inputs without revisions get increasing synthetic ones.
 * Pure.
 */

import { isRight } from 'fp-ts/lib/Either';
import type { StoredValue } from '../etcd/events';
import type { ListWatchEvent } from '../etcd/listwatch';
import { KEY_KINDS, parseKey, ROOT } from '../protocol/keys';
import type { HttpRequest } from '../sppctl/commands';
import { VfStatus } from '../sppctl/wire';
import type { HistoryEvent, ReplayInput } from './input';

export type StepEvent = Extract<ListWatchEvent, { type: 'reset' | 'put' | 'delete' }>;

export interface HostStep {
  readonly revision: number;
  /** What happened, e.g. `put /spp/openstack/action/spp4/P = plug`. */
  readonly label: string;
  readonly source: string;
  readonly event: StepEvent;
  /** The other events of the same etcd revision (one transaction), handled before the step settles. */
  readonly more?: readonly KeyStepEvent[];
  /** From a record that also holds the events of the agent's own writes (an event log, or etcd's history with an agent at work). */
  readonly logged: boolean;
}

export type KeyStepEvent = Extract<StepEvent, { type: 'put' | 'delete' }>;

/** What an agent's event log recorded of its spp-ctl side. */
export interface RecordedSppCtl {
  /** Mutating requests the agent sent, in order, each with the last etcd revision the agent had seen, and spp-ctl's answer when it was not a success. */
  readonly requests: Array<{ readonly request: HttpRequest; readonly revision: number; readonly failed?: string }>;
  /** The first status each vf answered: the vf's state before the agent acted. */
  readonly firstStatus: Map<number, VfStatus>;
  /** The recording agent ran with --unplug-resets-vlan (its start entry says so; the last start of the host counts). */
  unplugResetsVlan?: boolean;
}

export interface StepPlan {
  readonly hosts: Map<string, HostStep[]>;
  /** Keys under /spp/ that belong to no host, as of the last input. */
  readonly hostless: Record<string, string>;
  readonly recorded: Map<string, RecordedSppCtl>;
}

const KINDS = new Set<string>(KEY_KINDS);

/** The host a key belongs to, also for malformed keys under a host's prefix (so checks can report them there). */
export function ownerHost(key: string): string | undefined {
  const parsed = parseKey(key);
  if (parsed) return parsed.host;
  if (!key.startsWith(ROOT)) return undefined;
  const [kind, host] = key.slice(ROOT.length).split('/');
  return kind && host && KINDS.has(kind) ? host : undefined;
}

function clip(value: string, max = 160): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}

export function labelOf(ev: StepEvent, source: string): string {
  if (ev.type === 'reset') return `list of ${ev.entries.length} keys at revision ${ev.revision} (${source})`;
  return ev.type === 'put' ? `put ${ev.key} = ${clip(ev.value)}` : `delete ${ev.key}`;
}

export function planSteps(inputs: readonly ReplayInput[]): StepPlan {
  const hosts = new Map<string, HostStep[]>();
  const recorded = new Map<string, RecordedSppCtl>();
  const state = new Map<string, string>();
  let revision = 0;
  const stepsOf = (host: string): HostStep[] => {
    let s = hosts.get(host);
    if (!s) {
      s = [];
      hosts.set(host, s);
    }
    return s;
  };
  const push = (host: string | undefined, ev: StepEvent, source: string, logged: boolean): void => {
    if (host === undefined) return;
    stepsOf(host).push({ revision: ev.revision, label: labelOf(ev, source), source, event: ev, logged });
  };
  const keyEvent = (ev: Extract<StepEvent, { type: 'put' | 'delete' }>, source: string, logged: boolean): void => {
    if (ev.type === 'put') state.set(ev.key, ev.value);
    else state.delete(ev.key);
    revision = Math.max(revision, ev.revision);
    push(ownerHost(ev.key), ev, source, logged);
  };
  let listed = false;
  // a history is its listing (as a snapshot would be) followed by its events
  const expanded = inputs.flatMap((i): ReplayInput[] =>
    i.kind === 'history' ? [{ kind: 'snapshot', source: i.source, format: 'etcdctl-json', revision: i.listRevision, kvs: i.kvs }, i] : [i],
  );
  for (const input of expanded) {
    if (input.kind === 'history') {
      for (const ev of input.events) {
        if (ev.type === 'put') state.set(ev.key, ev.value);
        else state.delete(ev.key);
        revision = Math.max(revision, ev.revision);
      }
      const writers = agentHosts(input.events);
      for (const [h, steps] of eventSteps(input.events, input.source, (x) => writers.has(x))) stepsOf(h).push(...steps);
      listed = true;
      continue;
    }
    if (input.kind === 'snapshot') {
      const next = new Map(input.kvs.map((kv) => [kv.key, kv]));
      if (!listed) {
        // the first listing: every host starts from it (hosts with no keys yet start empty)
        const at = input.revision ?? revision + 1;
        revision = Math.max(revision, at);
        const byHost = new Map<string, Array<[string, StoredValue]>>();
        for (const kv of input.kvs) {
          state.set(kv.key, kv.value);
          const h = ownerHost(kv.key);
          if (h === undefined) continue;
          const list = byHost.get(h) ?? [];
          list.push([kv.key, { value: kv.value, modRevision: kv.modRevision ?? at }]);
          byHost.set(h, list);
        }
        for (const [h, entries] of [...byHost].sort(([a], [b]) => (a < b ? -1 : 1))) {
          push(h, { type: 'reset', revision: at, entries, reason: `snapshot ${input.source}` }, input.source, false);
        }
        listed = true;
        continue;
      }
      const puts = [...next.values()].filter((kv) => state.get(kv.key) !== kv.value);
      // without revisions, the order the driver writes in: claim, bind_port, action (then the agent's status)
      puts.sort((a, b) => (a.modRevision ?? 0) - (b.modRevision ?? 0) || writeRank(a.key) - writeRank(b.key) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const kv of puts)
        keyEvent({ type: 'put', key: kv.key, value: kv.value, revision: Math.max(revision + 1, kv.modRevision ?? 0) }, input.source, false);
      const gone = [...state.keys()].filter((k) => !next.has(k)).sort();
      for (const key of gone) keyEvent({ type: 'delete', key, revision: Math.max(revision + 1, input.revision ?? 0) }, input.source, false);
      continue;
    }
    let host: string | undefined;
    for (const entry of input.entries) {
      if (entry.kind === 'start') {
        host = entry.host;
        stepsOf(host);
        if (!recorded.has(host)) recorded.set(host, { requests: [], firstStatus: new Map<number, VfStatus>() });
        recorded.get(host)!.unplugResetsVlan = entry.unplugResetsVlan === true;
        continue;
      }
      if (entry.kind === 'sppctl') {
        const rec = host === undefined ? undefined : recorded.get(host);
        if (!rec) continue;
        const vf = /^\/v1\/vfs\/(\d+)$/.exec(entry.path);
        if (entry.method === 'GET') {
          if (vf && entry.status === 200 && entry.response !== undefined && !rec.firstStatus.has(Number(vf[1]))) {
            const decoded = VfStatus.decode(safeJson(entry.response));
            if (isRight(decoded)) rec.firstStatus.set(Number(vf[1]), decoded.right);
          }
        } else {
          const request: HttpRequest = {
            method: entry.method as HttpRequest['method'],
            path: entry.path,
            ...(entry.body !== undefined ? { body: entry.body as never } : {}),
          };
          const failed =
            entry.status === undefined
              ? `no answer${entry.error ? `: ${entry.error}` : ''}`
              : entry.status >= 300
                ? `answered ${entry.status}${entry.error ? `: ${entry.error}` : entry.response ? `: ${entry.response.trim().slice(0, 120)}` : ''}`
                : undefined;
          rec.requests.push({ request, revision, ...(failed ? { failed } : {}) });
        }
        continue;
      }
      if (entry.kind !== 'etcd') continue;
      const ev = entry.event;
      if (ev.type === 'connection') continue;
      if (ev.type === 'reset') {
        // an agent lists only its own host's keys
        const h = host ?? ev.entries.map(([k]) => ownerHost(k)).find((x) => x !== undefined);
        if (h === undefined) continue;
        for (const k of [...state.keys()]) if (ownerHost(k) === h) state.delete(k);
        for (const [k, v] of ev.entries) state.set(k, v.value);
        revision = Math.max(revision, ev.revision);
        listed = true;
        push(h, ev, input.source, true);
        continue;
      }
      keyEvent(ev, input.source, true);
    }
  }
  const hostless: Record<string, string> = {};
  for (const [k, v] of state) if (ownerHost(k) === undefined) hostless[k] = v;
  return { hosts, hostless, recorded };
}

/** Hosts whose history holds writes only an agent makes (port_status, agent state): the agent's own events are in it. */
export function agentHosts(events: readonly HistoryEvent[]): Set<string> {
  const out = new Set<string>();
  for (const ev of events) {
    const parsed = parseKey(ev.key);
    if (parsed && (parsed.kind === 'port_status' || parsed.kind === 'agent' || parsed.kind === 'agent-lock')) out.add(parsed.host);
  }
  return out;
}

/**
 * etcd history events as steps per host: the events of one revision (one
 * transaction) that belong to the same host are one step, as one watch
 * response delivers them to the agent. Events in revision order.
 */
export function eventSteps(events: readonly HistoryEvent[], source: string, logged: (host: string) => boolean): Map<string, HostStep[]> {
  const out = new Map<string, HostStep[]>();
  for (const ev of events) {
    const host = ownerHost(ev.key);
    if (host === undefined) continue;
    let steps = out.get(host);
    if (!steps) {
      steps = [];
      out.set(host, steps);
    }
    const last = steps[steps.length - 1];
    if (last && last.revision === ev.revision) {
      steps[steps.length - 1] = { ...last, label: `${last.label}; ${labelOf(ev, source)}`, more: [...(last.more ?? []), ev] };
      continue;
    }
    steps.push({ revision: ev.revision, label: labelOf(ev, source), source, event: ev, logged: logged(host) });
  }
  return out;
}

const WRITE_ORDER: readonly string[] = KEY_KINDS;

function writeRank(key: string): number {
  const kind = parseKey(key)?.kind;
  return kind === undefined ? WRITE_ORDER.length : WRITE_ORDER.indexOf(kind);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
