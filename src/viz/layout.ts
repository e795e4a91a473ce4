/**
 * A layered layout of a machine graph for the page's SVG: top-level states
 * are boxes in columns by their distance from the initial state, a compound
 * state lists its children inside its box, and edges between two boxes are
 * merged into one curve with every label. Pure geometry; the page draws it.
 */
import { childrenOf, topLevelOf } from './graph-format';
import { MachineGraph, transitionLabel } from './machine-graph';

export interface Box {
  /** Top-level state path. */
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly invoke: readonly string[];
  /** Child states drawn inside the box (nested paths flattened, in definition order). */
  readonly children: ReadonlyArray<{ readonly id: string; readonly label: string; readonly x: number; readonly y: number; readonly w: number; readonly h: number }>;
}

export interface Edge {
  readonly from: string;
  readonly to: string;
  readonly labels: readonly string[];
  /** SVG path data. */
  readonly path: string;
  readonly labelX: number;
  readonly labelY: number;
}

export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly Box[];
  readonly edges: readonly Edge[];
  /** Transitions of the machine root (taken from any state), shown as a note. */
  readonly fromAnyState: readonly string[];
}

const CHAR_W = 7;
const LINE_H = 16;
const PAD = 8;
const COL_GAP = 150;
const ROW_GAP = 46;
const MARGIN = 24;

export function layoutGraph(graph: MachineGraph): GraphLayout {
  const children = childrenOf(graph);
  const tops = children.get('') ?? [];
  const ids = tops.map((s) => s.id);
  const pairs = new Map<string, { from: string; to: string; labels: string[] }>();
  const fromAnyState: string[] = [];
  for (const t of graph.transitions) {
    if (t.source === '') {
      for (const target of t.targets) fromAnyState.push(`${transitionLabel(t)} -> ${target}`);
      continue;
    }
    for (const target of t.targets) {
      const from = topLevelOf(t.source);
      const to = topLevelOf(target);
      // transitions inside one compound state are shown by its child list, not as edges
      if (from === to && t.source !== from) continue;
      const key = `${from}\u0000${to}`;
      const entry = pairs.get(key) ?? { from, to, labels: [] };
      const label = transitionLabel(t);
      if (!entry.labels.includes(label)) entry.labels.push(label);
      pairs.set(key, entry);
    }
  }
  const layer = layers(ids, graph.initial ? topLevelOf(graph.initial) : ids[0], [...pairs.values()]);
  const columns: string[][] = [];
  for (const id of ids) (columns[layer.get(id)!] ??= []).push(id);

  const sizes = new Map<string, { w: number; h: number; kids: Array<{ id: string; label: string; depth: number }>; invoke: string[] }>();
  for (const s of tops) {
    const kids = descendants(children, s.id);
    const invoke = s.invoke.map((src) => `invoke ${src}`);
    const longest = Math.max(s.key.length + 2, ...invoke.map((l) => l.length), ...kids.map((k) => k.label.length + 2 * k.depth + 2));
    const w = Math.max(110, longest * CHAR_W + 2 * PAD);
    const h = LINE_H + PAD * 2 + invoke.length * LINE_H + kids.length * (LINE_H + 6) + (kids.length > 0 ? PAD : 0);
    sizes.set(s.id, { w, h, kids, invoke });
  }
  const boxes: Box[] = [];
  let x = MARGIN;
  let height = 0;
  for (const column of columns) {
    if (!column) continue;
    const colW = Math.max(...column.map((id) => sizes.get(id)!.w));
    let y = MARGIN;
    for (const id of column) {
      const size = sizes.get(id)!;
      const top = y + LINE_H + PAD + size.invoke.length * LINE_H;
      boxes.push({
        id,
        x,
        y,
        w: colW,
        h: size.h,
        invoke: size.invoke,
        children: size.kids.map((k, i) => ({
          id: k.id,
          label: k.label,
          x: x + PAD + k.depth * 2 * CHAR_W,
          y: top + PAD / 2 + i * (LINE_H + 6),
          w: colW - 2 * PAD - k.depth * 2 * CHAR_W,
          h: LINE_H + 2,
        })),
      });
      y += size.h + ROW_GAP;
    }
    height = Math.max(height, y - ROW_GAP + MARGIN);
    x += colW + COL_GAP;
  }
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const edges = [...pairs.values()].map((p) => edgeBetween(byId.get(p.from)!, byId.get(p.to)!, p.labels, pairs.has(`${p.to}\u0000${p.from}`)));
  const labelBottom = Math.max(0, ...edges.map((e) => e.labelY + e.labels.length * 12));
  return { width: x - COL_GAP + MARGIN, height: Math.max(height, labelBottom + MARGIN), boxes, edges, fromAnyState };
}

/** Columns by breadth-first distance from the initial state; unreachable states go last. */
function layers(ids: readonly string[], initial: string | undefined, edges: ReadonlyArray<{ from: string; to: string }>): Map<string, number> {
  const out = new Map<string, number>();
  const queue: string[] = [];
  if (initial !== undefined && ids.includes(initial)) {
    out.set(initial, 0);
    queue.push(initial);
  }
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const e of edges) {
      if (e.from !== id || out.has(e.to)) continue;
      out.set(e.to, out.get(id)! + 1);
      queue.push(e.to);
    }
  }
  const last = Math.max(-1, ...out.values()) + 1;
  for (const id of ids) if (!out.has(id)) out.set(id, last);
  return out;
}

function descendants(children: ReadonlyMap<string, ReadonlyArray<{ id: string; key: string }>>, id: string, depth = 0): Array<{ id: string; label: string; depth: number }> {
  return (children.get(id) ?? []).flatMap((c) => [{ id: c.id, label: c.key, depth }, ...descendants(children, c.id, depth + 1)]);
}

function edgeBetween(a: Box, b: Box, labels: readonly string[], bidirectional: boolean): Edge {
  const ca = { x: a.x + a.w / 2, y: a.y + a.h / 2 };
  if (a === b) {
    const sx = a.x + a.w - 24;
    const sy = a.y;
    return {
      from: a.id,
      to: b.id,
      labels,
      path: `M ${sx - 12} ${sy} C ${sx - 16} ${sy - 34}, ${sx + 20} ${sy - 34}, ${sx + 8} ${sy}`,
      labelX: sx + 14,
      labelY: sy - 30,
    };
  }
  const cb = { x: b.x + b.w / 2, y: b.y + b.h / 2 };
  const dx = cb.x - ca.x;
  const dy = cb.y - ca.y;
  const len = Math.hypot(dx, dy) || 1;
  // Bend every edge a little (more when it spans several rows or columns) so
  // that opposite edges of a pair and edges passing other boxes separate.
  const bend = (bidirectional ? 28 : 14) + Math.min(90, len / 6);
  const c = { x: (ca.x + cb.x) / 2 + (-dy / len) * bend, y: (ca.y + cb.y) / 2 + (dx / len) * bend };
  const p0 = borderPoint(a, c);
  const p1 = borderPoint(b, c);
  const mid = { x: 0.25 * p0.x + 0.5 * c.x + 0.25 * p1.x, y: 0.25 * p0.y + 0.5 * c.y + 0.25 * p1.y };
  return {
    from: a.id,
    to: b.id,
    labels,
    path: `M ${r(p0.x)} ${r(p0.y)} Q ${r(c.x)} ${r(c.y)} ${r(p1.x)} ${r(p1.y)}`,
    labelX: r(mid.x),
    labelY: r(mid.y),
  };
}

/** Where the segment from the box centre towards `p` leaves the box. */
function borderPoint(box: Box, p: { x: number; y: number }): { x: number; y: number } {
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  const dx = p.x - cx;
  const dy = p.y - cy;
  const sx = dx === 0 ? Infinity : box.w / 2 / Math.abs(dx);
  const sy = dy === 0 ? Infinity : box.h / 2 / Math.abs(dy);
  const s = Math.min(sx, sy, 1);
  return { x: cx + dx * s, y: cy + dy * s };
}

const r = (n: number): number => Math.round(n * 10) / 10;
