/**
 * The agent's view of etcd for one host: the key/value cache fed by the
 * list-watch stream (client-go's informer store), and pure derivations from
 * it. Nothing here performs I/O.
 */

import type { KeyEvent, StoredValue } from '../etcd/events';
import type { TapFlowKeys } from '../plan/tap-desired';
import { type Decoded, decodeJson, decodeVhostOwner, type VhostOwner } from '../protocol/codecs';
import { type ConfigFormat, ConfigurationValue, type HostConfiguration, type MirrorDecl } from '../protocol/configuration';
import { hostKeyRanges, keyProblem, keys, type ParsedKey, parseKey } from '../protocol/keys';
import { hostLayout, type NicLayout } from '../protocol/layout';
import { validateStored } from '../protocol/layout-rules';

function isTaasKind(kind: ParsedKey['kind']): boolean {
  return kind === 'mirror' || kind === 'tap_info' || kind === 'tap_action' || kind === 'tap_status';
}

/**
 * vhost values decoded, by stored value (a put replaces the object):
 * vhosts() is derived again whenever any vhost key of the host changes, and
 * only that one needs decoding again.
 */
const decodedOwners = new WeakMap<StoredValue, { readonly key: string; readonly owner: Decoded<VhostOwner> }>();

function vhostOwnerOf(key: string, stored: StoredValue): Decoded<VhostOwner> {
  const known = decodedOwners.get(stored);
  if (known?.key === key) return known.owner;
  const owner = decodeVhostOwner(key, stored.value);
  decodedOwners.set(stored, { key, owner });
  return owner;
}

/** Keys of one host, by full key. */
export class HostStore {
  private readonly kv = new Map<string, StoredValue>();
  /** Each stored key parsed once: portIds() and vhosts() run on every event, and re-parsing every key showed in profiles. */
  private readonly parsed = new Map<string, ParsedKey>();
  /** Highest revision applied (list revision or event). */
  revision = 0;
  /**
   * vhosts() and portIds() as last derived; dropped when a key of their kind
   * changes. The controller asks for both on every event, and rebuilding them
   * (decoding every vhost value) grew with the host's keys.
   */
  private vhostCache: ReadonlyMap<number, VhostKey> | undefined;
  private portIdCache: readonly string[] | undefined;
  /** The TaaS keys (mirror/, tap_*), kept as keys come and go: the tap sync runs on every event, and most hosts have none. */
  private readonly taasKeys = new Set<string>();
  /** portId -> its keys, kept as keys come and go: portKeys() runs for every port on every event. */
  private readonly byPort = new Map<string, PortKeys>();

  /** Where a key of this host could be (the exact keys as prefixes too): a key there that does not parse is this host's stray. */
  private readonly ranges: readonly string[];
  /** Stray keys seen since the last takeStrays(), with why they are not protocol keys. */
  private strays = new Map<string, string>();

  /** configuration/<host>, built once: configuration() runs several times per event, and a fresh key string is hashed anew on every lookup. */
  private readonly configurationKey: string;

  constructor(readonly host: string) {
    this.configurationKey = keys.configuration(host);
    const own = hostKeyRanges(host);
    this.ranges = [...own.prefixes, ...own.exact.map((k) => `${k}/`)];
  }

  /** Keys of this host's ranges that are not protocol keys (extra segments, control characters), seen since the last call. */
  takeStrays(): Array<[key: string, problem: string]> {
    if (this.strays.size === 0) return [];
    const out = [...this.strays];
    this.strays = new Map();
    return out;
  }

  /** Notes `key` if it is a stray of this host: one not parsed, under its ranges. */
  private noteStray(key: string): void {
    if (!this.ranges.some((r) => key.startsWith(r))) return;
    const problem = keyProblem(key);
    if (problem) this.strays.set(key, problem);
  }

  /** Replaces everything with a listing at `revision` (start-up and relist after compaction). */
  reset(entries: Iterable<[string, StoredValue]>, revision: number): void {
    this.kv.clear();
    this.parsed.clear();
    this.vhostCache = undefined;
    this.claimCache = undefined;
    this.portIdCache = undefined;
    this.byPort.clear();
    this.taasKeys.clear();
    for (const [k, v] of entries) this.store(k, v);
    this.revision = revision;
  }

  /** Applies a watch event; false when the key is not this host's. */
  apply(ev: KeyEvent): boolean {
    const parsed = this.ownParse(ev.key);
    if (parsed === undefined) {
      if (ev.type === 'put') this.noteStray(ev.key);
      return false;
    }
    if (ev.type === 'put') this.store(ev.key, { value: ev.value, modRevision: ev.revision }, parsed);
    else {
      const p = this.parsed.get(ev.key);
      this.kv.delete(ev.key);
      this.parsed.delete(ev.key);
      this.taasKeys.delete(ev.key);
      this.dropCaches(p);
      this.indexPort(p, undefined);
    }
    this.revision = Math.max(this.revision, ev.revision);
    return true;
  }

  /** The key parsed, when it is one of this host's (the agent's own keys, liveness and lock, are not). */
  private ownParse(key: string): ParsedKey | undefined {
    const p = parseKey(key);
    return p !== undefined && p.host === this.host && p.kind !== 'agent' && p.kind !== 'agent-lock' ? p : undefined;
  }

  /** `parsed`: the key's parse when the caller has it (every watch event is parsed once). */
  private store(key: string, value: StoredValue, parsed?: ParsedKey): void {
    const p = parsed ?? this.ownParse(key);
    if (p === undefined) {
      this.noteStray(key);
      return;
    }
    this.kv.set(key, value);
    this.parsed.set(key, p);
    if (isTaasKind(p.kind)) this.taasKeys.add(key);
    this.dropCaches(p);
    this.indexPort(p, value);
  }

  private indexPort(p: ParsedKey | undefined, value: StoredValue | undefined): void {
    if (p?.kind !== 'bind_port' && p?.kind !== 'action' && p?.kind !== 'port_status') return;
    const old = this.byPort.get(p.portId);
    const field = p.kind === 'bind_port' ? 'bindPort' : p.kind === 'action' ? 'action' : 'portStatus';
    const bindPort = field === 'bindPort' ? value : old?.bindPort;
    const action = field === 'action' ? value : old?.action;
    const portStatus = field === 'portStatus' ? value : old?.portStatus;
    if (!bindPort && !action && !portStatus) {
      this.byPort.delete(p.portId);
      return;
    }
    this.byPort.set(p.portId, {
      host: this.host,
      portId: p.portId,
      ...(bindPort ? { bindPort } : {}),
      ...(action ? { action } : {}),
      ...(portStatus ? { portStatus } : {}),
    });
  }

  private dropCaches(p: ParsedKey | undefined): void {
    if (p?.kind === 'vhost') {
      this.vhostCache = undefined;
      this.claimCache = undefined;
    } else if (p?.kind === 'bind_port' || p?.kind === 'action' || p?.kind === 'port_status') this.portIdCache = undefined;
  }

  get(key: string): StoredValue | undefined {
    return this.kv.get(key);
  }

  entries(): IterableIterator<[string, StoredValue]> {
    return this.kv.entries();
  }

  /** Every port id that has a bind_port, action or port_status key. */
  portIds(): readonly string[] {
    this.portIdCache ??= [...this.byPort.keys()].sort();
    return this.portIdCache;
  }

  /** The port's keys; the same object until one of them changes. */
  portKeys(portId: string): PortKeys {
    return this.byPort.get(portId) ?? { host: this.host, portId };
  }

  /** True when the port has any of its keys. */
  hasPortKeys(portId: string): boolean {
    return this.byPort.has(portId);
  }

  /** The vhost keys of the host: vhost id -> key, physical network and owner. The same map until a vhost key changes. */
  vhosts(): ReadonlyMap<number, VhostKey> {
    if (this.vhostCache) return this.vhostCache;
    const out = new Map<number, VhostKey>();
    for (const [k, v] of this.kv) {
      const p = this.parsed.get(k);
      if (p?.kind === 'vhost') out.set(p.vhostId, { key: k, phys: p.phys, owner: vhostOwnerOf(k, v), modRevision: v.modRevision });
    }
    this.vhostCache = out;
    return out;
  }

  private claimCache: ReadonlyMap<string, readonly number[]> | undefined;

  /** The vhosts each port claims: port id -> the ids of the vhost keys that name it (the driver claims one). Cached with vhosts(). */
  claims(): ReadonlyMap<string, readonly number[]> {
    const vhosts = this.vhosts();
    if (this.claimCache) return this.claimCache;
    const out = new Map<string, number[]>();
    for (const [id, v] of vhosts) {
      if (!v.owner.ok || v.owner.value.free) continue;
      const list = out.get(v.owner.value.portId);
      if (list) list.push(id);
      else out.set(v.owner.value.portId, [id]);
    }
    this.claimCache = out;
    return out;
  }

  /** Every tap flow with any of its keys (tap_info, tap_action, tap_status), by flow id. Few per host: derived on each call. */
  tapFlows(): TapFlowKeys[] {
    const flows = new Map<string, { flowId: string; info?: StoredValue; action?: StoredValue; status?: StoredValue }>();
    for (const k of this.taasKeys) {
      const p = this.parsed.get(k)!;
      if (p.kind !== 'tap_info' && p.kind !== 'tap_action' && p.kind !== 'tap_status') continue;
      const flow = flows.get(p.tapFlowId) ?? { flowId: p.tapFlowId };
      flows.set(p.tapFlowId, flow);
      const field = p.kind === 'tap_info' ? 'info' : p.kind === 'tap_action' ? 'action' : 'status';
      flow[field] = this.kv.get(k)!;
    }
    return [...flows.values()].sort((a, b) => a.flowId.localeCompare(b.flowId));
  }

  /** No tap_info, tap_action or tap_status key (mirror keys aside): nothing for the tap sync to derive. */
  hasTapFlowKeys(): boolean {
    for (const k of this.taasKeys) if (this.parsed.get(k)!.kind !== 'mirror') return true;
    return false;
  }

  /** mirror/<host>/<k> values by k. */
  mirrorOwners(): Map<number, StoredValue> {
    const out = new Map<number, StoredValue>();
    for (const k of this.taasKeys) {
      const p = this.parsed.get(k)!;
      if (p.kind === 'mirror') out.set(p.mirrorId, this.kv.get(k)!);
    }
    return out;
  }

  /** The last configuration read, by raw value: every event asks, and decoding + validating + laying out each time showed in profiles. */
  private lastConfiguration: { raw: string | undefined; view: ConfigurationView } | undefined;

  configuration(): ConfigurationView {
    const raw = this.kv.get(this.configurationKey)?.value;
    if (this.lastConfiguration?.raw !== raw || !this.lastConfiguration) this.lastConfiguration = { raw, view: readConfiguration(this.host, raw) };
    return this.lastConfiguration.view;
  }
}

export interface PortKeys {
  readonly host: string;
  readonly portId: string;
  readonly bindPort?: StoredValue;
  readonly action?: StoredValue;
  readonly portStatus?: StoredValue;
}

export interface VhostKey {
  readonly key: string;
  readonly phys: string;
  readonly owner: Decoded<VhostOwner>;
  readonly modRevision: number;
}

export type ConfigurationView =
  | { readonly state: 'missing' }
  | { readonly state: 'invalid'; readonly errors: readonly string[] }
  | {
      readonly state: 'valid';
      readonly raw: string;
      readonly configuration: HostConfiguration;
      /** The shape it is stored in: c33920f's array or the final object. */
      readonly format: ConfigFormat;
      /** The final shape's spp_mirror list (TaaS), kept as read. */
      readonly mirror?: readonly MirrorDecl[];
      readonly layout: readonly NicLayout[];
      readonly warnings: readonly string[];
    };

/** Decodes and validates configuration/<host>; every problem is listed, naming the key and NIC. */
export function readConfiguration(host: string, raw: string | undefined): ConfigurationView {
  if (raw === undefined) return { state: 'missing' };
  const key = keys.configuration(host);
  const decoded = decodeJson(ConfigurationValue, key, raw);
  if (!decoded.ok) return { state: 'invalid', errors: [decoded.error] };
  const { vf, format, mirror } = decoded.value;
  const label = (i: number): string => `${key}: NIC ${i} (${vf[i]?.pci_address})`;
  // The agent runs whatever the host was set up with (validateStored says which limits only warn).
  const v = validateStored(vf, format, label);
  if (v.errors.length > 0) return { state: 'invalid', errors: v.errors };
  return {
    state: 'valid',
    raw,
    configuration: vf,
    format,
    ...(mirror ? { mirror } : {}),
    layout: hostLayout(vf, format),
    warnings: v.warnings,
  };
}
