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

/** A recorded request, with spp-ctl's answer when it was not a success (an error status, or none). */
export interface RecordedRequest {
  readonly request: HttpRequest;
  readonly failed?: string;
}

interface Numbered {
  readonly text: string;
  /** Its position among the vf's recorded (or replayed) requests, from 1. */
  readonly n: number;
}

/**
 * The recorded and the replayed requests, vf by vf (each vf's commands are
 * ordered; how two vfs' commands interleave depends on timing, not on the
 * agent's decisions), as a line diff (longest common subsequence). Only the
 * recorded requests spp-ctl accepted are compared: one it refused or did not
 * answer had no effect the replay could repeat (the replay's emulator
 * accepts every valid request at once), and the agent's retries of it are
 * listed as `failed`, not as differences.
 */
export function compareRequests(recorded: readonly (HttpRequest | RecordedRequest)[], replayed: readonly HttpRequest[]): RecordedComparison {
  const vfOf = (r: HttpRequest): string => /^\/v1\/vfs\/([^/]+)/.exec(r.path)?.[1] ?? '?';
  const accepted = new Map<string, Numbered[]>();
  const failed: string[] = [];
  const counts = new Map<string, number>();
  for (const item of recorded) {
    const r: RecordedRequest = 'request' in item ? item : { request: item };
    const vf = vfOf(r.request);
    const n = (counts.get(vf) ?? 0) + 1;
    counts.set(vf, n);
    if (r.failed !== undefined) failed.push(`vf ${vf} #${n}: ${requestText(r.request)} (${r.failed})`);
    else accepted.set(vf, [...(accepted.get(vf) ?? []), { text: requestText(r.request), n }]);
  }
  const replayedByVf = new Map<string, Numbered[]>();
  for (const r of replayed) {
    const vf = vfOf(r);
    const list = replayedByVf.get(vf) ?? [];
    list.push({ text: requestText(r), n: list.length + 1 });
    replayedByVf.set(vf, list);
  }
  const vfs = [...new Set([...counts.keys(), ...replayedByVf.keys()])].sort((x, y) => Number(x) - Number(y) || (x < y ? -1 : 1));
  const differences = vfs.flatMap((vf) => diffLines(accepted.get(vf) ?? [], replayedByVf.get(vf) ?? []).map((d) => `vf ${vf} ${d}`));
  return { recorded: recorded.length, replayed: replayed.length, failed, differences };
}

function diffLines(a: readonly Numbered[], b: readonly Numbered[]): string[] {
  const differences: string[] = [];
  if (a.length * b.length > 25_000_000) {
    // too long for a full diff: compare position by position
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      if (a[i]?.text !== b[i]?.text) differences.push(`#${i + 1}: recorded ${a[i]?.text ?? '(nothing)'}, replay ${b[i]?.text ?? '(nothing)'}`);
    }
    return differences;
  }
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i]!.text === b[j]!.text ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i]!.text === b[j]!.text) {
      i++;
      j++;
    } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      differences.push(`replay only (#${b[j]!.n}): ${b[j]!.text}`);
      j++;
    } else {
      differences.push(`recorded only (#${a[i]!.n}): ${a[i]!.text}`);
      i++;
    }
  }
  return differences;
}
