/** Reads a V8 .cpuprofile (node --cpu-prof) and ranks functions by self time. */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  /** Microseconds on the monotonic clock (process.hrtime's, in any process of the machine). */
  readonly startTime?: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * The profile's samples taken within `windows` only ([start, end] in
 * process.hrtime.bigint() nanoseconds, the clock V8 stamps samples with):
 * a phase of a run, e.g. the plug half of each burst without its unplug.
 */
export function withinWindows(profile: CpuProfile, windows: ReadonlyArray<readonly [bigint, bigint]>): CpuProfile {
  if (profile.startTime === undefined) throw new Error('the profile has no startTime: cannot cut it into windows');
  const samples: number[] = [];
  const timeDeltas: number[] = [];
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    const ns = BigInt(Math.round(at)) * 1000n;
    if (windows.some(([from, to]) => ns >= from && ns <= to)) {
      samples.push(id);
      timeDeltas.push(delta);
    }
  });
  return { nodes: profile.nodes, samples, timeDeltas };
}

export interface HotSpot {
  /** `name (file:line)`; V8's own entries are in parentheses, e.g. `(garbage collector)`. */
  readonly where: string;
  readonly selfMs: number;
  readonly percent: number;
}

/** Sums each sample's time (timeDeltas[i] is the time before sample i) under the key its function maps to; largest first. */
function selfTime(profile: CpuProfile, keyOf: (f: CpuProfile['nodes'][number]['callFrame']) => string, top: number): { totalMs: number; spots: HotSpot[] } {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    total += us;
    const f = byNode.get(id)?.callFrame;
    if (!f) return;
    const key = keyOf(f);
    self.set(key, (self.get(key) ?? 0) + us);
  });
  const spots = [...self.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, top)
    .map(([where, us]) => ({ where, selfMs: us / 1000, percent: total > 0 ? (100 * us) / total : 0 }));
  return { totalMs: total / 1000, spots };
}

/** Self time per function (summed over its call sites), largest first. */
export function hotSpots(profile: CpuProfile, root = process.cwd(), top = 15): { totalMs: number; spots: HotSpot[] } {
  return selfTime(
    profile,
    (f) => {
      const file = f.url ? relative(root, f.url.replace(/^file:\/\//, '')) : '';
      return `${f.functionName || '(anonymous)'}${file ? ` (${file}:${f.lineNumber + 1})` : ''}`;
    },
    top,
  );
}

/** Where code comes from: an npm package, a file of ours, Node's internals, or V8 itself. */
export function origin(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/dist\/(.+)$/.exec(url);
  return ours ? ours[1]! : url;
}

/** Self time per origin (package, file), largest first: which layer the CPU goes to. */
export function hotOrigins(profile: CpuProfile, top = 12): HotSpot[] {
  return selfTime(profile, (f) => origin(f.url, f.functionName), top).spots;
}

/** The agent's layers, by the file a frame comes from; the first match from the leaf up owns a sample. */
export const LAYERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['logging (winston)', /\/node_modules\/(winston|logform|safe-stable-stringify|winston-transport|readable-stream)\//],
  ['spp-ctl HTTP client (node:http)', /undici|node:_http_|\/dist\/src\/sppctl\/(client|http-exchange)\.js$/],
  ['etcd client (etcd3, grpc, protobuf)', /\/node_modules\/(etcd3|@grpc|protobufjs|@protobufjs)\//],
  ['state machines (xstate)', /\/node_modules\/xstate\//],
  ['agent code (controller, store, planner, codecs)', /\/dist\/(src|machines)\//],
];

/**
 * Busy time (idle excluded) per layer: each sample goes to the innermost
 * frame that belongs to a layer, so Node internals (streams, sockets) count
 * for the library that called them. `other`: GC, start-up, V8.
 */
export function byLayer(profile: CpuProfile): { busyMs: number; layers: HotSpot[] } {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const owner = new Map<number, string>();
  const layerOf = (id: number): string => {
    const cached = owner.get(id);
    if (cached !== undefined) return cached;
    const node = byNode.get(id);
    const hit = node && LAYERS.find(([, re]) => re.test(node.callFrame.url));
    const up = parent.get(id);
    const layer = hit ? hit[0] : up !== undefined ? layerOf(up) : 'other';
    owner.set(id, layer);
    return layer;
  };
  const time = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    if (byNode.get(id)?.callFrame.functionName === '(idle)') return;
    const us = profile.timeDeltas[i] ?? 0;
    busy += us;
    const layer = layerOf(id);
    time.set(layer, (time.get(layer) ?? 0) + us);
  });
  const layers = [...time.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([where, us]) => ({ where, selfMs: us / 1000, percent: busy > 0 ? (100 * us) / busy : 0 }));
  return { busyMs: busy / 1000, layers };
}

export function readCpuProfile(path: string): CpuProfile {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Partial<CpuProfile>;
  if (!Array.isArray(p.nodes) || !Array.isArray(p.samples) || !Array.isArray(p.timeDeltas)) {
    throw new Error(`${path}: not a V8 cpuprofile (needs nodes, samples and timeDeltas)`);
  }
  return p as CpuProfile;
}

/** The report of a profile as printed by the bench: top functions, busy time by layer, self time by origin. */
export function profileSummary(profile: CpuProfile, root: string, heading: (sampledMs: number) => string): string[] {
  const { totalMs, spots } = hotSpots(profile, root);
  const lines = [heading(totalMs), 'top functions by self time:'];
  const row = (s: HotSpot): string => `  ${s.selfMs.toFixed(1).padStart(8)} ms ${s.percent.toFixed(1).padStart(5)}%  ${s.where}`;
  lines.push(...spots.map(row));
  const { busyMs, layers } = byLayer(profile);
  lines.push(`busy time by layer (${busyMs.toFixed(0)} ms busy, idle excluded):`, ...layers.map(row));
  lines.push('self time by origin:', ...hotOrigins(profile).map(row));
  return lines;
}
