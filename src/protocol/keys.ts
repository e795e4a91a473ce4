/**
 * Every etcd key of the networking-spp protocol, built and parsed in one
 * place so that no other module concatenates key strings.
 */

import { CONTROL_CHARACTER, escapeCharacter, printable } from './printable';

export const ROOT = '/spp/openstack/';

export type KeyKind = 'configuration' | 'vhost' | 'bind_port' | 'action' | 'port_status' | 'agent' | 'agent-lock' | TapKeyKind;

/** Tap-as-a-service (upstream-final 1b): mirror/<host>/<id> claims, and a tap flow's three keys. */
export type TapKeyKind = 'mirror' | 'tap_info' | 'tap_action' | 'tap_status';

/** Every kind, in the order a host's keys are written (configuration first, the agent's own keys last). */
export const KEY_KINDS: readonly KeyKind[] = [
  'configuration',
  'vhost',
  'bind_port',
  'action',
  'port_status',
  'mirror',
  'tap_info',
  'tap_action',
  'tap_status',
  'agent',
  'agent-lock',
];

export type ParsedKey =
  | { readonly kind: 'configuration'; readonly host: string }
  | { readonly kind: 'vhost'; readonly host: string; readonly phys: string; readonly vhostId: number }
  | { readonly kind: 'bind_port' | 'action' | 'port_status'; readonly host: string; readonly portId: string }
  | { readonly kind: 'agent' | 'agent-lock'; readonly host: string }
  | { readonly kind: 'mirror'; readonly host: string; readonly mirrorId: number }
  | { readonly kind: 'tap_info' | 'tap_action' | 'tap_status'; readonly host: string; readonly tapFlowId: string };

/** Host names and port ids become key segments, so they must not contain '/' nor a control character (parseKey refuses those). */
function segmentProblem(what: string, value: string): string | undefined {
  return value.length === 0 || value.includes('/') || CONTROL_CHARACTER.test(value)
    ? `invalid ${what} ${printable(JSON.stringify(value))}: must be non-empty and contain no '/' nor control character`
    : undefined;
}

function segment(what: string, value: string): string {
  const problem = segmentProblem(what, value);
  if (problem) throw new Error(problem);
  return value;
}

/** Why `host` cannot name a host in the keys; undefined when it can. The one host-name check: every setting and option uses it. */
export function hostProblem(host: string): string | undefined {
  return segmentProblem('host', host);
}

/** A vhost (or mirror) id that parseKey would not read back must never become a key. */
function vhostSegment(vhostId: number, what = 'vhost id'): string {
  if (!Number.isSafeInteger(vhostId) || vhostId < 0) throw new Error(`invalid ${what} ${vhostId}: must be an integer >= 0`);
  return String(vhostId);
}

export const keys = {
  configuration: (host: string): string => `${ROOT}configuration/${segment('host', host)}`,
  vhost: (host: string, phys: string, vhostId: number): string =>
    `${ROOT}vhost/${segment('host', host)}/${segment('physical network', phys)}/${vhostSegment(vhostId)}`,
  bindPort: (host: string, portId: string): string => `${ROOT}bind_port/${segment('host', host)}/${segment('port id', portId)}`,
  action: (host: string, portId: string): string => `${ROOT}action/${segment('host', host)}/${segment('port id', portId)}`,
  portStatus: (host: string, portId: string): string => `${ROOT}port_status/${segment('host', host)}/${segment('port id', portId)}`,
  agent: (host: string): string => `${ROOT}agent/${segment('host', host)}`,
  /** One active agent per host: the leader lock, under the lease of the agent that holds it (an extension of the protocol). */
  agentLock: (host: string): string => `${ROOT}agent-lock/${segment('host', host)}`,
  mirror: (host: string, mirrorId: number): string => `${ROOT}mirror/${segment('host', host)}/${vhostSegment(mirrorId, 'mirror id')}`,
  tapInfo: (host: string, tapFlowId: string): string => `${ROOT}tap_info/${segment('host', host)}/${segment('tap flow id', tapFlowId)}`,
  tapAction: (host: string, tapFlowId: string): string => `${ROOT}tap_action/${segment('host', host)}/${segment('tap flow id', tapFlowId)}`,
  tapStatus: (host: string, tapFlowId: string): string => `${ROOT}tap_status/${segment('host', host)}/${segment('tap flow id', tapFlowId)}`,
} as const;

/** Why `id` cannot be a tap flow id in the keys; undefined when it can. */
export function tapFlowIdProblem(id: string): string | undefined {
  return segmentProblem('tap flow id', id);
}

/** Prefixes (ending in '/') under which one host's keys of a kind live. */
export const prefixes = {
  all: ROOT,
  configuration: `${ROOT}configuration/`,
  vhostOfHost: (host: string): string => `${ROOT}vhost/${segment('host', host)}/`,
  vhostOfPhys: (host: string, phys: string): string => `${ROOT}vhost/${segment('host', host)}/${segment('physical network', phys)}/`,
  bindPortOfHost: (host: string): string => `${ROOT}bind_port/${segment('host', host)}/`,
  actionOfHost: (host: string): string => `${ROOT}action/${segment('host', host)}/`,
  portStatusOfHost: (host: string): string => `${ROOT}port_status/${segment('host', host)}/`,
  agent: `${ROOT}agent/`,
  agentLock: `${ROOT}agent-lock/`,
  mirrorOfHost: (host: string): string => `${ROOT}mirror/${segment('host', host)}/`,
  tapInfoOfHost: (host: string): string => `${ROOT}tap_info/${segment('host', host)}/`,
  tapActionOfHost: (host: string): string => `${ROOT}tap_action/${segment('host', host)}/`,
  tapStatusOfHost: (host: string): string => `${ROOT}tap_status/${segment('host', host)}/`,
  mirror: `${ROOT}mirror/`,
  tapInfo: `${ROOT}tap_info/`,
  tapAction: `${ROOT}tap_action/`,
  tapStatus: `${ROOT}tap_status/`,
  /** The same kinds for every host, e.g. for etcd roles and listings across hosts. */
  vhost: `${ROOT}vhost/`,
  bindPort: `${ROOT}bind_port/`,
  action: `${ROOT}action/`,
  portStatus: `${ROOT}port_status/`,
} as const;

/**
 * The keys one host's agent lists and watches: its own and nothing else, so
 * that its etcd role can be limited to them. agent/<host> and
 * agent-lock/<host> are only written (and the lock read), never watched.
 */
export function hostWatchRanges(host: string): { prefixes: string[]; keys: string[] } {
  return {
    prefixes: [
      prefixes.vhostOfHost(host),
      prefixes.bindPortOfHost(host),
      prefixes.actionOfHost(host),
      prefixes.portStatusOfHost(host),
      // TaaS: the mirrors' claims and the tap flows' keys (upstream-final 1b)
      prefixes.mirrorOfHost(host),
      prefixes.tapInfoOfHost(host),
      prefixes.tapActionOfHost(host),
      prefixes.tapStatusOfHost(host),
    ],
    keys: [keys.configuration(host)],
  };
}

/** Every prefix (or exact key) holding a key that belongs to `host`: what its agent watches, and the agent's own keys. */
export function hostKeyRanges(host: string): { exact: string[]; prefixes: string[] } {
  const watched = hostWatchRanges(host);
  return { exact: [...watched.keys, keys.agent(host), keys.agentLock(host)], prefixes: watched.prefixes };
}

const VHOST_ID = /^(0|[1-9][0-9]*)$/;

/** Keys parsed lately, in two generations (the older one is dropped when the newer fills); longer keys are not kept. */
const PARSED_GENERATION = 16_384;
const PARSED_KEY_MAX = 512;
let parsedNow = new Map<string, ParsedKey | undefined>();
let parsedBefore = new Map<string, ParsedKey | undefined>();

/**
 * Parses a protocol key; undefined for anything that is not one. The same key
 * is parsed by each layer an event passes (replay steps, host store, value
 * limits): a replay of many revisions spent a few per cent of its time here,
 * so recent answers (immutable) are kept.
 */
export function parseKey(key: string): ParsedKey | undefined {
  if (key.length > PARSED_KEY_MAX) return readKey(key);
  let parsed = parsedNow.get(key);
  if (parsed !== undefined || parsedNow.has(key)) return parsed;
  parsed = parsedBefore.has(key) ? parsedBefore.get(key) : readKey(key);
  if (parsedNow.size >= PARSED_GENERATION) {
    parsedBefore = parsedNow;
    parsedNow = new Map();
  }
  parsedNow.set(key, parsed);
  return parsed;
}

function readKey(key: string): ParsedKey | undefined {
  if (!key.startsWith(ROOT) || CONTROL_CHARACTER.test(key)) return undefined;
  const parts = key.slice(ROOT.length).split('/');
  if (parts.some((p) => p.length === 0)) return undefined;
  const [kind, host] = parts;
  if (host === undefined) return undefined;
  switch (kind) {
    case 'configuration':
    case 'agent':
    case 'agent-lock':
      return parts.length === 2 ? { kind, host } : undefined;
    case 'vhost': {
      const [, , phys, id] = parts;
      if (parts.length !== 4 || phys === undefined || id === undefined || !VHOST_ID.test(id)) return undefined;
      return { kind, host, phys, vhostId: Number(id) };
    }
    case 'bind_port':
    case 'action':
    case 'port_status': {
      const portId = parts[2];
      return parts.length === 3 && portId !== undefined ? { kind, host, portId } : undefined;
    }
    case 'mirror': {
      const id = parts[2];
      return parts.length === 3 && id !== undefined && VHOST_ID.test(id) ? { kind, host, mirrorId: Number(id) } : undefined;
    }
    case 'tap_info':
    case 'tap_action':
    case 'tap_status': {
      const tapFlowId = parts[2];
      return parts.length === 3 && tapFlowId !== undefined ? { kind, host, tapFlowId } : undefined;
    }
    default:
      return undefined;
  }
}

/** Segments of each kind of key after ROOT (the kind included). */
const SEGMENTS: Readonly<Record<string, number>> = {
  configuration: 2,
  agent: 2,
  vhost: 4,
  bind_port: 3,
  action: 3,
  port_status: 3,
  mirror: 3,
  tap_info: 3,
  tap_action: 3,
  tap_status: 3,
};

/**
 * Why a key under ROOT of one of the protocol's kinds is not a protocol key
 * (parseKey refuses it), for a message that names the key (escaped with
 * printable(): it may hold anything); undefined for a protocol key or a key
 * of no kind of the protocol.
 */
export function keyProblem(key: string): string | undefined {
  if (!key.startsWith(ROOT) || parseKey(key) !== undefined) return undefined;
  const parts = key.slice(ROOT.length).split('/');
  const kind = parts[0]!;
  const expected = SEGMENTS[kind];
  if (expected === undefined) return undefined;
  const control = CONTROL_CHARACTER.exec(key);
  if (control) return `a key segment holds the control character ${escapeCharacter(control[0])}; refused`;
  if (parts.length > expected) return `${parts.length - expected} path segment(s) more than a ${kind} key has; ignored as stray`;
  if (parts.length < expected || parts.some((p) => p.length === 0))
    return `a ${kind} key has ${expected - 1} non-empty segment(s) after ${kind}/; ignored as stray`;
  if (kind === 'mirror') return `the mirror id ${printable(JSON.stringify(parts[2]))} is not an integer >= 0; ignored as stray`;
  return `the vhost id ${JSON.stringify(parts[3])} is not an integer >= 0; ignored as stray`;
}

/** The host a protocol key belongs to, if it is one. */
export function hostOfKey(key: string): string | undefined {
  return parseKey(key)?.host;
}
