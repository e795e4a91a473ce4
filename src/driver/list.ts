/**
 * Every port the driver has handed to agents, read from one consistent
 * snapshot of the port keys. A value that does not decode is reported on
 * its field; the port is still listed.
 */
import { type Etcd3, Range } from 'etcd3';
import { Action, BindPort, decodeJson, decodeText, decodeVhostOwner, PortStatus, vlanOf } from '../protocol/codecs';
import { parseKey, prefixes } from '../protocol/keys';

export type PortField = 'bind_port' | 'action' | 'port_status' | 'vhost';

export interface PortRow {
  readonly host: string;
  readonly portId: string;
  readonly vhostId: number | null;
  readonly physicalNetwork: string | null;
  readonly mac: string | null;
  readonly vlanId: number | null;
  readonly action: Action | null;
  /** `up` or `error: <reason>`; null when absent (not plugged yet) or undecodable. */
  readonly status: string | null;
  /** Why a field is null although its key exists, or why keys disagree. */
  readonly errors: Partial<Record<PortField, string>>;
}

interface VhostKeyOwner {
  readonly key: string;
  readonly phys: string;
  readonly owner: string;
}

interface Raw {
  bindPort?: { key: string; value: string };
  action?: { key: string; value: string };
  status?: { key: string; value: string };
}

/** Builds the rows from a listing of keys under /spp/openstack/ (pure). */
export function portRows(listing: Readonly<Record<string, string>>, host?: string): PortRow[] {
  const vhosts = new Map<string, Map<number, VhostKeyOwner>>();
  const ports = new Map<string, Map<string, Raw>>();
  const portOf = (h: string, p: string): Raw => {
    const byHost = ports.get(h) ?? new Map<string, Raw>();
    ports.set(h, byHost);
    const raw = byHost.get(p) ?? {};
    byHost.set(p, raw);
    return raw;
  };
  for (const [key, value] of Object.entries(listing)) {
    const k = parseKey(key);
    if (!k || (host !== undefined && k.host !== host)) continue;
    switch (k.kind) {
      case 'vhost': {
        const byId = vhosts.get(k.host) ?? new Map<number, VhostKeyOwner>();
        vhosts.set(k.host, byId);
        byId.set(k.vhostId, { key, phys: k.phys, owner: value });
        const owner = decodeVhostOwner(key, value);
        // A claimed vhost without bind_port is a bind that stopped half-way: list it too.
        if (owner.ok && !owner.value.free) portOf(k.host, owner.value.portId);
        break;
      }
      case 'bind_port':
        portOf(k.host, k.portId).bindPort = { key, value };
        break;
      case 'action':
        portOf(k.host, k.portId).action = { key, value };
        break;
      case 'port_status':
        portOf(k.host, k.portId).status = { key, value };
        break;
      default:
        break;
    }
  }
  const rows: PortRow[] = [];
  for (const [h, byPort] of ports) {
    for (const [portId, raw] of byPort) rows.push(row(h, portId, raw, vhosts.get(h) ?? new Map()));
  }
  return rows.sort(
    (a, b) =>
      a.host.localeCompare(b.host) || (a.vhostId ?? Number.MAX_SAFE_INTEGER) - (b.vhostId ?? Number.MAX_SAFE_INTEGER) || a.portId.localeCompare(b.portId),
  );
}

function row(host: string, portId: string, raw: Raw, vhosts: ReadonlyMap<number, VhostKeyOwner>): PortRow {
  const errors: Partial<Record<PortField, string>> = {};
  let bind: BindPort | undefined;
  if (raw.bindPort) {
    const d = decodeJson(BindPort, raw.bindPort.key, raw.bindPort.value);
    if (d.ok) bind = d.value;
    else errors.bind_port = d.error;
  }
  let action: Action | null = null;
  if (raw.action) {
    const d = decodeText(Action, raw.action.key, raw.action.value);
    if (d.ok) action = d.value;
    else errors.action = d.error;
  }
  let status: string | null = null;
  if (raw.status) {
    const d = decodeText(PortStatus, raw.status.key, raw.status.value);
    if (d.ok) status = d.value;
    else errors.port_status = d.error;
  }

  const owned = [...vhosts.entries()].filter(([, s]) => s.owner === portId).map(([id]) => id);
  const vhostId: number | null = bind ? bind.vhost_id : (owned[0] ?? null);
  const slot = vhostId === null ? undefined : vhosts.get(vhostId);
  if (bind && !slot) {
    errors.vhost = `${raw.bindPort!.key} names vhost ${bind.vhost_id}, but ${host} has no vhost key with that id`;
  } else if (bind && slot && slot.owner !== portId) {
    errors.vhost = `${raw.bindPort!.key} names vhost ${bind.vhost_id}, but ${slot.key} holds ${JSON.stringify(slot.owner)}`;
  } else if (owned.length > 1) {
    errors.vhost = `port owns several vhosts: ${owned.map((id) => vhosts.get(id)!.key).join(', ')}`;
  } else if (!bind && !raw.bindPort && slot) {
    errors.vhost = `${slot.key} is claimed by this port but it has no bind_port (a bind stopped after the claim)`;
  }

  return {
    host,
    portId,
    vhostId,
    physicalNetwork: slot?.phys ?? null,
    mac: bind?.mac_address ?? null,
    vlanId: bind ? (vlanOf(bind) ?? null) : null,
    action,
    status,
    errors,
  };
}

/** The ranges the rows are made of: what the driver's etcd role may read (not the whole tree). */
export function portRanges(host?: string): string[] {
  return host === undefined
    ? [prefixes.vhost, prefixes.bindPort, prefixes.action, prefixes.portStatus]
    : [prefixes.vhostOfHost(host), prefixes.bindPortOfHost(host), prefixes.actionOfHost(host), prefixes.portStatusOfHost(host)];
}

/** Lists every port, or those of one host, from one snapshot. */
export async function listPorts(client: Etcd3, host?: string): Promise<PortRow[]> {
  return portRows(await readPrefixes(client, portRanges(host)), host);
}

/**
 * The keys under the prefixes, read in one transaction, so at one revision:
 * the fields of a listed row never come from different moments.
 */
export async function readPrefixes(client: Etcd3, prefixList: readonly string[]): Promise<Record<string, string>> {
  const ranges = prefixList.map((p) => Range.prefix(p));
  const res = await client.kv.txn({ success: ranges.map((r) => ({ request_range: { key: r.start, range_end: r.end } })) });
  const listing: Record<string, string> = {};
  for (const op of res.responses) for (const kv of op.response_range.kvs) listing[kv.key.toString()] = kv.value.toString();
  return listing;
}
