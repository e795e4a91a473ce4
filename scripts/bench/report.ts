/**
 * Turns samples into figures: a table for people, then one `BENCH {json}`
 * line per figure for machines, then one `GOAL pass|fail ...` line per goal.
 */
import { round, type Summary, summarize } from './stats';

/** One machine-readable figure: the `BENCH` line's JSON. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
}

export interface Row {
  readonly name: string;
  readonly unit: string;
  readonly summary?: Summary;
  /** A single value (memory, counts) instead of a distribution. */
  readonly value?: number;
  /** The floor the p50 is compared with (same unit). */
  readonly floor?: number;
  readonly note?: string;
}

export interface Goal {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

export class Report {
  readonly rows: Row[] = [];
  readonly goals: Goal[] = [];
  readonly notes: string[] = [];

  samples(name: string, unit: string, samples: readonly number[], extra: { floor?: number; note?: string } = {}): Summary {
    const summary = summarize(samples);
    this.rows.push({ name, unit, summary, ...extra });
    return summary;
  }

  value(name: string, unit: string, value: number, note?: string): void {
    this.rows.push({ name, unit, value, ...(note ? { note } : {}) });
  }

  goal(name: string, pass: boolean, detail: string): void {
    this.goals.push({ name, pass, detail });
  }

  note(text: string): void {
    this.notes.push(text);
  }

  figures(): Figure[] {
    return this.rows.flatMap((r): Figure[] => {
      if (!r.summary) return [{ name: r.name, value: round(r.value ?? NaN), unit: r.unit }];
      const out: Figure[] = [
        { name: `${r.name}.p50`, value: round(r.summary.median), unit: r.unit },
        { name: `${r.name}.p99`, value: round(r.summary.p99), unit: r.unit },
      ];
      if (r.floor !== undefined && r.floor > 0) out.push({ name: `${r.name}.p50_x_floor`, value: round(r.summary.median / r.floor, 2), unit: 'x' });
      return out;
    });
  }

  /** The table, the BENCH lines and the GOAL lines, as printed on stdout. */
  render(): string {
    const head = ['figure', 'n', 'p50', 'p99', 'unit', 'p50/floor'];
    const body = this.rows.map((r) =>
      r.summary
        ? [r.name, String(r.summary.n), fmt(r.summary.median), fmt(r.summary.p99), r.unit, r.floor ? `${(r.summary.median / r.floor).toFixed(2)}x` : '']
        : [r.name, '1', fmt(r.value ?? NaN), '', r.unit, ''],
    );
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
    const line = (cells: string[]): string =>
      cells
        .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
        .join('  ')
        .trimEnd();
    const out = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line), ''];
    for (const r of this.rows) if (r.note) out.push(`  ${r.name}: ${r.note}`);
    for (const n of this.notes) out.push(`note: ${n}`);
    out.push('');
    for (const f of this.figures()) out.push(`BENCH ${JSON.stringify(f)}`);
    for (const g of this.goals) out.push(`GOAL ${g.pass ? 'pass' : 'fail'} ${g.name}: ${g.detail}`);
    return `${out.join('\n')}\n`;
  }
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
