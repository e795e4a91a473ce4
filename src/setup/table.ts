/**
 * Plain-text tables for terminal output: columns padded to their widest
 * cell, no trailing spaces, so output is readable and diffable. Every cell,
 * value and item is shown through printable(): they hold text from etcd.
 */
import { printable } from '../protocol/printable';

export interface TableOptions {
  /** Prefix of every line (nesting under a heading). */
  readonly indent?: string;
  /** Printed instead of a header-only table when there are no rows. */
  readonly empty?: string;
}

/** Renders rows under headers; a cell may hold several lines' worth of values joined by the caller. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], options: TableOptions = {}): string {
  const indent = options.indent ?? '';
  if (rows.length === 0 && options.empty !== undefined) return `${indent}${options.empty}\n`;
  const shown = rows.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...shown.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    `${indent}${headers
      .map((_, i) => (cells[i] ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  return [line(headers), ...shown.map(line)].join('');
}

/** `label: value` lines with the values aligned. */
export function renderFields(fields: readonly (readonly [string, string])[], indent = ''): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length + 1));
  return fields.map(([k, v]) => `${`${indent}${`${k}:`.padEnd(width)} ${printable(v)}`.trimEnd()}\n`).join('');
}

/** A list of problems, one per line, or nothing when there are none. */
export function renderList(title: string, items: readonly string[], indent = ''): string {
  if (items.length === 0) return '';
  return `${indent}${title}\n${items.map((i) => `${indent}  - ${printable(i)}\n`).join('')}`;
}
