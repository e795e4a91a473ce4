/**
 * An event log's recorded spp-ctl requests against the replay's, vf by vf.
 */
import type { HttpRequest } from '../sppctl/commands';
import type { RecordedComparison } from './report';

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, x]) => [k, canonical(x)]),
    );
  return v;
}

export function requestText(r: HttpRequest): string {
  return `${r.method} ${r.path}${r.body !== undefined ? ` ${JSON.stringify(canonical(r.body))}` : ''}`;
}

/**
 * The recorded and the replayed requests, vf by vf (each vf's commands are
 * ordered; how two vfs' commands interleave depends on timing, not on the
 * agent's decisions), as a line diff (longest common subsequence).
 */
export function compareRequests(recorded: readonly HttpRequest[], replayed: readonly HttpRequest[]): RecordedComparison {
  const byVf = (list: readonly HttpRequest[]): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const r of list) {
      const vf = /^\/v1\/vfs\/([^/]+)/.exec(r.path)?.[1] ?? '?';
      out.set(vf, [...(out.get(vf) ?? []), requestText(r)]);
    }
    return out;
  };
  const a = byVf(recorded);
  const b = byVf(replayed);
  const vfs = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => Number(x) - Number(y) || (x < y ? -1 : 1));
  const differences = vfs.flatMap((vf) => diffLines(a.get(vf) ?? [], b.get(vf) ?? []).map((d) => `vf ${vf} ${d}`));
  return { recorded: recorded.length, replayed: replayed.length, differences };
}

function diffLines(a: readonly string[], b: readonly string[]): string[] {
  const differences: string[] = [];
  if (a.length * b.length > 25_000_000) {
    // too long for a full diff: compare position by position
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i] !== b[i]) differences.push(`#${i + 1}: recorded ${a[i] ?? '(nothing)'}, replay ${b[i] ?? '(nothing)'}`);
    }
    return differences;
  }
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      differences.push(`replay only (#${j + 1}): ${b[j]}`);
      j++;
    } else {
      differences.push(`recorded only (#${i + 1}): ${a[i]}`);
      i++;
    }
  }
  return differences;
}
