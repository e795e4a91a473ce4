/**
 * Plain-text rendering of the port list for `spp port list` (kept local to
 * the driver so it does not depend on the shared table module).
 */
import { printable } from '../protocol/printable';
import type { PortRow } from './list';

const COLUMNS = ['HOST', 'PORT', 'VHOST', 'PHYS', 'MAC', 'VLAN', 'ACTION', 'STATUS'] as const;

function cells(r: PortRow): string[] {
  const dash = (v: string | number | null): string => (v === null ? '-' : String(v));
  // every cell may come from etcd: no control character reaches the terminal
  return [r.host, r.portId, dash(r.vhostId), dash(r.physicalNetwork), dash(r.mac), dash(r.vlanId), dash(r.action), dash(r.status)].map(printable);
}

/** An aligned table, then one line per field that could not be read. */
export function formatPortTable(rows: readonly PortRow[]): string {
  if (rows.length === 0) return 'no ports\n';
  const body = rows.map(cells);
  const widths = COLUMNS.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const problems = rows.flatMap((r) => Object.entries(r.errors).map(([field, why]) => printable(`  ${r.host} ${r.portId} ${field}: ${why}`)));
  return [line(COLUMNS), ...body.map(line), ...(problems.length ? ['', 'problems:', ...problems] : []), ''].join('\n');
}
