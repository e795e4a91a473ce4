/**
 * Plain-text rendering of the driver's listings, `spp port list` and `spp tap list` (kept local to
 * the driver so it does not depend on the shared table module).
 */
import { printable } from '../protocol/printable';
import type { PortRow } from './list';

const COLUMNS = ['HOST', 'PORT', 'VHOST', 'PHYS', 'MAC', 'VLAN', 'ACTION', 'STATUS'] as const;

/** An aligned table, then one line per field that could not be read. */
export function formatPortTable(rows: readonly PortRow[]): string {
  if (rows.length === 0) return 'no ports\n';
  return formatRowTable(
    COLUMNS,
    rows.map((r) => ({
      id: `${r.host} ${r.portId}`,
      cells: [r.host, r.portId, r.vhostId, r.physicalNetwork, r.mac, r.vlanId, r.action, r.status],
      errors: r.errors,
    })),
  );
}

/** A listed row: its cells (null shown as -), and why a field could not be read, under its id. */
export interface TableRow {
  readonly id: string;
  readonly cells: readonly (string | number | null)[];
  readonly errors: Readonly<Record<string, string | undefined>>;
}

/** The driver's listings (ports, tap flows): aligned columns, then a `problems:` section. */
export function formatRowTable(columns: readonly string[], rows: readonly TableRow[]): string {
  // every cell may come from etcd: no control character reaches the terminal
  const body = rows.map((r) => r.cells.map((v) => printable(v === null ? '-' : String(v))));
  const widths = columns.map((h, i) => Math.max(h.length, ...body.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const problems = rows.flatMap((r) => Object.entries(r.errors).map(([field, why]) => printable(`  ${r.id} ${field}: ${why}`)));
  return [line(columns), ...body.map(line), ...(problems.length ? ['', 'problems:', ...problems] : []), ''].join('\n');
}
