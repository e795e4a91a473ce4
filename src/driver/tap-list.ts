/**
 * Every tap flow the driver has handed to agents, and the mirrors claimed
 * for them, from one consistent snapshot. A value that does not decode is
 * reported on its field; the flow is still listed.
 */
import type { Etcd3 } from 'etcd3';
import { decodeJson, decodeMirrorOwner, decodeText, TapAction, TapInfo, TapStatus } from '../protocol/codecs';
import { parseKey, prefixes } from '../protocol/keys';
import { formatRowTable } from './format';
import { readPrefixes } from './list';

export type TapField = 'tap_info' | 'tap_action' | 'tap_status' | 'mirror';

export interface TapRow {
  readonly host: string;
  readonly tapFlowId: string;
  readonly servicePort: string | null;
  readonly sourcePort: string | null;
  /** IN, OUT or BOTH from the mirrors in tap_info; null without tap_info. */
  readonly direction: 'IN' | 'OUT' | 'BOTH' | null;
  readonly mirrorIn: number | null;
  readonly mirrorOut: number | null;
  readonly action: TapAction | null;
  readonly status: string | null;
  readonly errors: Partial<Record<TapField, string>>;
}

interface Raw {
  info?: { key: string; value: string };
  action?: { key: string; value: string };
  status?: { key: string; value: string };
  /** Mirror ids whose key names this flow. */
  mirrors: number[];
}

/** Builds the rows from a listing of keys (pure). */
export function tapRows(listing: Readonly<Record<string, string>>, host?: string): TapRow[] {
  const flows = new Map<string, Map<string, Raw>>();
  const flowOf = (h: string, tf: string): Raw => {
    const byHost = flows.get(h) ?? new Map<string, Raw>();
    flows.set(h, byHost);
    const raw = byHost.get(tf) ?? { mirrors: [] };
    byHost.set(tf, raw);
    return raw;
  };
  for (const [key, value] of Object.entries(listing)) {
    const k = parseKey(key);
    if (!k || (host !== undefined && k.host !== host)) continue;
    if (k.kind === 'mirror') {
      const owner = decodeMirrorOwner(key, value);
      // a claimed mirror without tap_info is a create that stopped half-way: list it too
      if (owner.ok && !owner.value.free) flowOf(k.host, owner.value.tapFlowId).mirrors.push(k.mirrorId);
    } else if (k.kind === 'tap_info') flowOf(k.host, k.tapFlowId).info = { key, value };
    else if (k.kind === 'tap_action') flowOf(k.host, k.tapFlowId).action = { key, value };
    else if (k.kind === 'tap_status') flowOf(k.host, k.tapFlowId).status = { key, value };
  }
  const rows: TapRow[] = [];
  for (const [h, byHost] of [...flows.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    for (const [tf, raw] of [...byHost.entries()].sort(([a], [b]) => a.localeCompare(b))) rows.push(rowOf(h, tf, raw));
  }
  return rows;
}

function rowOf(host: string, tapFlowId: string, raw: Raw): TapRow {
  const errors: Partial<Record<TapField, string>> = {};
  const info = raw.info ? decodeJson(TapInfo, raw.info.key, raw.info.value) : undefined;
  if (info && !info.ok) errors.tap_info = info.error;
  const action = raw.action ? decodeText(TapAction, raw.action.key, raw.action.value) : undefined;
  if (action && !action.ok) errors.tap_action = action.error;
  const status = raw.status ? decodeText(TapStatus, raw.status.key, raw.status.value) : undefined;
  if (status && !status.ok) errors.tap_status = status.error;
  const v = info?.ok ? info.value : undefined;
  const named = [v?.mirror_in, v?.mirror_out].filter((m): m is number => typeof m === 'number');
  const claimed = [...raw.mirrors].sort((a, b) => a - b);
  if (!raw.info) {
    if (claimed.length > 0) errors.mirror = `mirror ${claimed.join(', ')} claimed by this flow, but it has no tap_info (a create stopped after the claim)`;
  } else if (v) {
    const unclaimed = named.filter((m) => !claimed.includes(m));
    const extra = claimed.filter((m) => !named.includes(m));
    if (unclaimed.length > 0) errors.mirror = `tap_info names mirror ${unclaimed.join(', ')}, whose key does not name this flow`;
    else if (extra.length > 0) errors.mirror = `mirror ${extra.join(', ')} also claimed by this flow but not in its tap_info`;
  }
  const mirrorIn = v?.mirror_in ?? null;
  const mirrorOut = v?.mirror_out ?? null;
  return {
    host,
    tapFlowId,
    servicePort: v?.service_port ?? null,
    sourcePort: v?.source_port ?? null,
    direction: v ? (mirrorIn !== null && mirrorOut !== null ? 'BOTH' : mirrorIn !== null ? 'IN' : mirrorOut !== null ? 'OUT' : null) : null,
    mirrorIn,
    mirrorOut,
    action: action?.ok ? action.value : null,
    status: status?.ok ? status.value : null,
    errors,
  };
}

/** The ranges the rows are made of. */
export function tapRanges(host?: string): string[] {
  return host === undefined
    ? [prefixes.mirror, prefixes.tapInfo, prefixes.tapAction, prefixes.tapStatus]
    : [prefixes.mirrorOfHost(host), prefixes.tapInfoOfHost(host), prefixes.tapActionOfHost(host), prefixes.tapStatusOfHost(host)];
}

/** Lists every tap flow, or those of one host, from one snapshot (one transaction, one revision). */
export async function listTaps(client: Etcd3, host?: string): Promise<TapRow[]> {
  return tapRows(await readPrefixes(client, tapRanges(host)), host);
}

const COLUMNS = ['HOST', 'TAP FLOW', 'DIR', 'SERVICE PORT', 'SOURCE PORT', 'IN', 'OUT', 'ACTION', 'STATUS'] as const;

/** An aligned table, then one line per field that could not be read. */
export function formatTapTable(rows: readonly TapRow[]): string {
  if (rows.length === 0) return 'no tap flows\n';
  return formatRowTable(
    COLUMNS,
    rows.map((r) => ({
      id: `${r.host} ${r.tapFlowId}`,
      cells: [r.host, r.tapFlowId, r.direction, r.servicePort, r.sourcePort, r.mirrorIn, r.mirrorOut, r.action, r.status],
      errors: r.errors,
    })),
  );
}
