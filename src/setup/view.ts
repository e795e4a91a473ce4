/**
 * A readable picture of everything under /spp/: per host its configuration,
 * NIC layouts, vhosts with their owners, ports with bind info, action and
 * status, and whether its agent is alive. Every value that does not decode is
 * kept with its error; no key is dropped. The grouping is a pure function of
 * the key/value map, so snapshots from files (replay) get the same view.
 */
import type { Etcd3 } from 'etcd3';
import { type MirrorSlot, mirrorSlots } from '../driver/tap-claim';
import { type TapRow, tapRows } from '../driver/tap-list';
import {
  Action,
  AgentInfo,
  AgentLockHolder,
  BindPort,
  type Decoded,
  decodeJson,
  decodeText,
  decodeVhostOwner,
  PortStatus,
  type VhostOwner,
  vlanOf,
} from '../protocol/codecs';
import { type ConfigFormat, type ConfigurationDoc, ConfigurationValue, type HostConfiguration, type MirrorDecl } from '../protocol/configuration';
import { KEY_KINDS, type KeyKind, keyProblem, keys, parseKey, ROOT } from '../protocol/keys';
import { hostLayout, type NicLayout } from '../protocol/layout';
import { validateStored } from '../protocol/layout-rules';
import type { Validation } from '../protocol/mappings';
import { readSnapshot, snapshotValues } from './snapshot';

/** A stored value with its decoding: the value, or why it is not valid. */
export type Entry<A> = { readonly key: string; readonly raw: string } & Decoded<A>;

export interface VhostView {
  readonly key: string;
  readonly phys: string;
  readonly vhostId: number;
  readonly owner: Entry<VhostOwner>;
  /** Index of the NIC that serves this vhost id per the configuration. */
  readonly nicIndex?: number;
  readonly problems: string[];
}

/** A port's keys as etcd holds them (the agent's machine view of a port is agent/view.ts's PortView). */
export interface PortKeysView {
  readonly portId: string;
  readonly bindPort?: Entry<BindPort>;
  readonly action?: Entry<Action>;
  readonly portStatus?: Entry<PortStatus>;
  /** Vhost keys whose value is this port id. */
  readonly vhostKeys: string[];
  readonly problems: string[];
}

export interface StrayKey {
  readonly key: string;
  readonly raw: string;
  readonly error: string;
}

export interface HostView {
  readonly host: string;
  /** Absent when configuration/<host> does not exist. */
  readonly configuration?: Entry<HostConfiguration>;
  /** The shape the configuration is stored in (c33920f array or final object), when it decodes. */
  readonly format?: ConfigFormat;
  /** The final shape's spp_mirror list (TaaS), as read. */
  readonly mirror?: readonly MirrorDecl[];
  /** Semantic checks of a configuration that decodes (core masks, overlaps, limits). */
  readonly validation?: Validation;
  readonly layout?: NicLayout[];
  readonly layoutError?: string;
  readonly vhosts: VhostView[];
  readonly ports: PortKeysView[];
  readonly agentAlive: boolean;
  readonly agent?: Entry<AgentInfo>;
  /** agent-lock/<host>: which agent holds the host's lock (absent while no agent runs). */
  readonly lock?: Entry<AgentLockHolder>;
  /** mirror/<host>/<i> keys in etcd key order (TaaS). */
  readonly mirrors: MirrorSlot[];
  /** Tap flows (tap_info, tap_action, tap_status and the mirrors naming them), with their problems. */
  readonly tapFlows: TapRow[];
  /** Keys of this host that are not protocol keys (e.g. a vhost id that is not a number). */
  readonly strayKeys: StrayKey[];
}

export interface SppView {
  readonly hosts: HostView[];
  /** Keys under /spp/ that belong to no host. */
  readonly strayKeys: StrayKey[];
  /** etcd revision of the read, when read from etcd. */
  readonly revision?: string;
}

interface HostAcc {
  configuration?: Entry<HostConfiguration>;
  doc?: ConfigurationDoc;
  agent?: Entry<AgentInfo>;
  lock?: Entry<AgentLockHolder>;
  vhosts: { key: string; phys: string; vhostId: number; owner: Entry<VhostOwner> }[];
  ports: Map<string, { bindPort?: Entry<BindPort>; action?: Entry<Action>; portStatus?: Entry<PortStatus> }>;
  /** mirror and tap_* keys, decoded by the tap listing. */
  tapKeys: Record<string, string>;
  stray: StrayKey[];
}

function entry<A>(key: string, raw: string, d: Decoded<A>): Entry<A> {
  return { key, raw, ...d };
}

const STRAY = 'not a networking-spp protocol key';

/** The host a non-protocol key under /spp/openstack/<kind>/<host>/ would belong to. */
function looseHost(key: string): string | undefined {
  if (!key.startsWith(ROOT)) return undefined;
  const [kind, host] = key.slice(ROOT.length).split('/');
  return kind && host && KEY_KINDS.includes(kind as KeyKind) ? host : undefined;
}

/** Groups a key/value map (keys under /spp/) per host; `host` keeps only that host. */
export function groupHostViews(values: Readonly<Record<string, string>>, host?: string): SppView {
  const hosts = new Map<string, HostAcc>();
  const acc = (h: string): HostAcc => {
    let a = hosts.get(h);
    if (!a) {
      a = { vhosts: [], ports: new Map(), tapKeys: {}, stray: [] };
      hosts.set(h, a);
    }
    return a;
  };
  const port = (a: HostAcc, id: string) => {
    let p = a.ports.get(id);
    if (!p) {
      p = {};
      a.ports.set(id, p);
    }
    return p;
  };
  const strayKeys: StrayKey[] = [];
  for (const key of Object.keys(values).sort()) {
    const raw = values[key]!;
    const parsed = parseKey(key);
    if (!parsed) {
      const h = looseHost(key);
      const error = keyProblem(key) ?? STRAY;
      if (h === undefined) strayKeys.push({ key, raw, error });
      else acc(h).stray.push({ key, raw, error });
      continue;
    }
    const a = acc(parsed.host);
    switch (parsed.kind) {
      case 'configuration': {
        const d = decodeJson(ConfigurationValue, key, raw);
        a.configuration = entry(key, raw, d.ok ? { ok: true, value: d.value.vf } : d);
        if (d.ok) a.doc = d.value;
        break;
      }
      case 'agent':
        a.agent = entry(key, raw, decodeJson(AgentInfo, key, raw));
        break;
      case 'agent-lock':
        a.lock = entry(key, raw, decodeJson(AgentLockHolder, key, raw));
        break;
      case 'vhost':
        a.vhosts.push({ key, phys: parsed.phys, vhostId: parsed.vhostId, owner: entry(key, raw, decodeVhostOwner(key, raw)) });
        break;
      case 'bind_port':
        port(a, parsed.portId).bindPort = entry(key, raw, decodeJson(BindPort, key, raw));
        break;
      case 'action':
        port(a, parsed.portId).action = entry(key, raw, decodeText(Action, key, raw));
        break;
      case 'port_status':
        port(a, parsed.portId).portStatus = entry(key, raw, decodeText(PortStatus, key, raw));
        break;
      case 'mirror':
      case 'tap_info':
      case 'tap_action':
      case 'tap_status':
        a.tapKeys[key] = raw;
        break;
    }
  }
  const names = [...hosts.keys()].filter((h) => host === undefined || h === host).sort();
  return { hosts: names.map((h) => hostView(h, hosts.get(h)!)), strayKeys: host === undefined ? strayKeys : [] };
}

function hostView(host: string, a: HostAcc): HostView {
  let validation: Validation | undefined;
  let layout: NicLayout[] | undefined;
  let layoutError: string | undefined;
  const config = a.configuration;
  const format = a.doc?.format;
  if (config?.ok) {
    const label = (i: number): string => `NIC ${i} (${config.value[i]!.pci_address})`;
    validation = validateStored(config.value, format ?? 'legacy', label);
    try {
      layout = hostLayout(config.value, format);
    } catch (err) {
      layoutError = (err as Error).message;
    }
  }
  const nicOfId = new Map<number, { index: number; phys: string }>();
  if (config?.ok) {
    let next = 0;
    config.value.forEach((nic, index) => {
      for (let k = 0; k < nic.num_vhost; k++) nicOfId.set(next++, { index, phys: nic.physical_network });
    });
  }

  const ownedBy = new Map<string, string[]>();
  const vhosts: VhostView[] = a.vhosts
    .sort((x, y) => x.vhostId - y.vhostId || x.phys.localeCompare(y.phys))
    .map((v) => {
      const problems: string[] = [];
      const nic = nicOfId.get(v.vhostId);
      if (config?.ok) {
        if (!nic) problems.push(`vhost ${v.vhostId} is not in ${config.key}`);
        else if (nic.phys !== v.phys) problems.push(`${config.key} puts vhost ${v.vhostId} under physical network ${nic.phys}`);
      }
      if (v.owner.ok && !v.owner.value.free) {
        const owner = v.owner.value.portId;
        ownedBy.set(owner, [...(ownedBy.get(owner) ?? []), v.key]);
        const bind = a.ports.get(owner)?.bindPort;
        if (!bind) problems.push(`claimed by port ${owner}, which has no bind_port (a bind in progress, or a leaked claim)`);
        else if (bind.ok && bind.value.vhost_id !== v.vhostId) {
          problems.push(`claimed by port ${owner}, whose bind_port names vhost ${bind.value.vhost_id}`);
        }
      }
      return { key: v.key, phys: v.phys, vhostId: v.vhostId, owner: v.owner, ...(nic ? { nicIndex: nic.index } : {}), problems };
    });

  const portIds = new Set([...a.ports.keys(), ...ownedBy.keys()]);
  const ports: PortKeysView[] = [...portIds].sort().map((portId) => {
    const p = a.ports.get(portId) ?? {};
    const owned = ownedBy.get(portId) ?? [];
    const problems: string[] = [];
    if (owned.length > 1) problems.push(`claims ${owned.length} vhosts: ${owned.join(', ')}`);
    if (p.bindPort?.ok) {
      const id = p.bindPort.value.vhost_id;
      const slot = vhosts.filter((v) => v.vhostId === id);
      if (slot.length === 0) problems.push(`bind_port names vhost ${id}, which has no vhost key on this host`);
      else if (!slot.some((v) => v.owner.ok && !v.owner.value.free && v.owner.value.portId === portId)) {
        const holders = slot.map((v) => `${v.key} = ${v.owner.raw}`).join(', ');
        problems.push(`bind_port names vhost ${id}, but ${holders}`);
      }
    }
    if (p.action && !p.bindPort) problems.push('has an action but no bind_port (the agent ignores it)');
    return { portId, ...p, vhostKeys: owned, problems };
  });

  return {
    host,
    ...(config ? { configuration: config } : {}),
    ...(format ? { format } : {}),
    ...(a.doc?.mirror ? { mirror: a.doc.mirror } : {}),
    ...(validation ? { validation } : {}),
    ...(layout ? { layout } : {}),
    ...(layoutError ? { layoutError } : {}),
    vhosts,
    ports,
    agentAlive: a.agent !== undefined,
    ...(a.agent ? { agent: a.agent } : {}),
    ...(a.lock ? { lock: a.lock } : {}),
    mirrors: mirrorSlots(a.tapKeys),
    tapFlows: tapRows(a.tapKeys, host),
    strayKeys: a.stray,
  };
}

/** Reads everything under /spp/ at one revision and groups it; `host` keeps only that host. */
/** What `spp status` and `config show` read: all of /spp/, so that stray keys beside the protocol's show too. */
export const VIEW_PREFIX = '/spp/';

export async function readHostView(client: Etcd3, host?: string): Promise<SppView> {
  if (host !== undefined) keys.configuration(host); // rejects a host name that cannot be a key segment
  const snapshot = await readSnapshot(client, VIEW_PREFIX);
  return { ...groupHostViews(snapshotValues(snapshot), host), revision: snapshot.revision };
}

/** A one-line description of a port's binding, e.g. `fa:16:3e:a0:da:db vlan 100` (for tables). */
export function describeBinding(bind: BindPort): string {
  const vlan = vlanOf(bind);
  return vlan === undefined ? `${bind.mac_address} flat` : `${bind.mac_address} vlan ${vlan}`;
}
