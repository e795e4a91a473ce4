/**
 * A layered layout of a machine graph for the page's SVG: top-level states
 * are boxes in columns by their distance from the initial state, a compound
 * state lists its children inside its box, and edges between two boxes are
 * merged into one curve with every label. Pure geometry; the page draws it.
 */
import { childrenOf, topLevelOf } from './graph-format';
import { type MachineGraph, transitionLabel } from './machine-graph';

export interface Box {
  /** Top-level state path. */
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly invoke: readonly string[];
  /** Child states drawn inside the box (nested paths flattened, in definition order). */
  readonly children: ReadonlyArray<{
    readonly id: string;
    readonly label: string;
    readonly x: number;
    readonly y: number;
    readonly w: number;
    readonly h: number;
  }>;
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
  for (const id of ids) {
    const column = layer.get(id)!;
    columns[column] ??= [];
    columns[column].push(id);
  }
  orderColumns(columns, [...pairs.values()]);

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
  const columnHeight = (column: readonly string[]): number => column.reduce((sum, id) => sum + sizes.get(id)!.h, 0) + ROW_GAP * (column.length - 1);
  const tallest = Math.max(0, ...columns.filter(Boolean).map(columnHeight));
  for (const column of columns) {
    if (!column) continue;
    const colW = Math.max(...column.map((id) => sizes.get(id)!.w));
    // Columns are centred on the tallest one, so edges fan out evenly instead of all leaving downwards.
    let y = MARGIN + (tallest - columnHeight(column)) / 2;
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
    x += colW + COL_GAP;
  }
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const top = Math.min(...boxes.map((b) => b.y));
  const bottom = Math.max(...boxes.map((b) => b.y + b.h));
  const middle = (top + bottom) / 2;
  const around = { above: 0, below: 0 };
  const edges = [...pairs.values()].map((p) => {
    const from = byId.get(p.from)!;
    const to = byId.get(p.to)!;
    // An edge back over a whole column would cut through it: it goes round the outside instead.
    if (layer.get(p.from)! - layer.get(p.to)! >= 2) {
      const side = from.y + from.h / 2 <= middle ? 'above' : 'below';
      const edge = edgeAround(from, to, p.labels, side, side === 'above' ? top : bottom, around[side]);
      around[side] += 22 + 12 * p.labels.length;
      return edge;
    }
    return edgeBetween(from, to, p.labels, pairs.has(`${p.to}\u0000${p.from}`));
  });
  return fitInMargins(boxes, placeLabels(boxes, edges), fromAnyState);
}

/**
 * Orders each column by the mean row of its neighbours in the column before
 * (the barycentre heuristic, one sweep): fewer crossings, stable otherwise.
 */
function orderColumns(columns: string[][], edges: ReadonlyArray<{ from: string; to: string }>): void {
  for (let c = 1; c < columns.length; c++) {
    const prev = columns[c - 1];
    const column = columns[c];
    if (!prev || !column) continue;
    const rank = new Map(prev.map((id, i) => [id, i]));
    const weight = new Map<string, number>();
    column.forEach((id, i) => {
      const near = edges
        .filter((e) => (e.to === id && rank.has(e.from)) || (e.from === id && rank.has(e.to)))
        .map((e) => rank.get(e.to === id ? e.from : e.to)!);
      weight.set(id, near.length > 0 ? near.reduce((a, b) => a + b, 0) / near.length : i);
    });
    const original = new Map(column.map((id, i) => [id, i]));
    column.sort((a, b) => weight.get(a)! - weight.get(b)! || original.get(a)! - original.get(b)!);
  }
}

/** Width of one character of an edge label (10px sans-serif), with a margin: labels are placed by this estimate. */
const LABEL_CHAR_W = 6.2;
const LABEL_LINE_H = 12;

interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

/** The rectangle an edge label covers: centred on labelX, first baseline at labelY. */
export function labelRect(e: Pick<Edge, 'labels' | 'labelX' | 'labelY'>): Rect {
  const w = Math.max(...e.labels.map((l) => l.length)) * LABEL_CHAR_W + 4;
  return { x: e.labelX - w / 2, y: e.labelY - 10, w, h: e.labels.length * LABEL_LINE_H + 3 };
}

const overlaps = (a: Rect, b: Rect): boolean => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Moves each edge label off every box and every label placed before it:
 * the nearest free spot around the curve's midpoint, trying small vertical
 * steps first, then sideways ones.
 */
function placeLabels(boxes: readonly Box[], edges: readonly Edge[]): Edge[] {
  const taken: Rect[] = boxes.map((b) => ({ x: b.x - 3, y: b.y - 3, w: b.w + 6, h: b.h + 6 }));
  const steps: Array<[number, number]> = [];
  for (const dx of [0, -40, 40, -80, 80, -120, 120]) for (let k = 0; k <= 16; k++) for (const sign of k === 0 ? [1] : [-1, 1]) steps.push([dx, sign * k * 8]);
  return edges.map((e) => {
    for (const [dx, dy] of steps) {
      const moved = { ...e, labelX: r(e.labelX + dx), labelY: r(e.labelY + dy) };
      const rect = labelRect(moved);
      if (!taken.some((t) => overlaps(t, rect))) {
        taken.push(rect);
        return moved;
      }
    }
    taken.push(labelRect(e));
    return e;
  });
}

/** Moves everything so that boxes, curves and labels all lie inside the margins. */
function fitInMargins(boxes: readonly Box[], edges: readonly Edge[], fromAnyState: readonly string[]): GraphLayout {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const b of boxes) {
    xs.push(b.x, b.x + b.w);
    ys.push(b.y, b.y + b.h);
  }
  for (const e of edges) {
    const nums = e.path.match(/-?[0-9.]+/g)?.map(Number) ?? [];
    for (let i = 0; i + 1 < nums.length; i += 2) {
      xs.push(nums[i]!);
      ys.push(nums[i + 1]!);
    }
    const label = labelRect(e);
    xs.push(label.x, label.x + label.w);
    ys.push(label.y, label.y + label.h);
  }
  const dx = MARGIN - Math.min(...xs);
  const dy = MARGIN - Math.min(...ys);
  const shiftPath = (path: string): string => {
    let i = 0;
    return path.replace(/-?[0-9.]+/g, (n) => String(r(Number(n) + (i++ % 2 === 0 ? dx : dy))));
  };
  return {
    width: Math.ceil(Math.max(...xs) + dx + MARGIN),
    height: Math.ceil(Math.max(...ys) + dy + MARGIN),
    boxes: boxes.map((b) => ({ ...b, x: r(b.x + dx), y: r(b.y + dy), children: b.children.map((c) => ({ ...c, x: r(c.x + dx), y: r(c.y + dy) })) })),
    edges: edges.map((e) => ({ ...e, path: shiftPath(e.path), labelX: r(e.labelX + dx), labelY: r(e.labelY + dy) })),
    fromAnyState,
  };
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

function descendants(
  children: ReadonlyMap<string, ReadonlyArray<{ id: string; key: string }>>,
  id: string,
  depth = 0,
): Array<{ id: string; label: string; depth: number }> {
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

/** A curve leaving `a` and entering `b` on the same side (top or bottom), bulging past every box on that side. */
function edgeAround(a: Box, b: Box, labels: readonly string[], side: 'above' | 'below', edgeY: number, offset: number): Edge {
  const sign = side === 'above' ? -1 : 1;
  const ay = side === 'above' ? a.y : a.y + a.h;
  const by = side === 'above' ? b.y : b.y + b.h;
  const ax = a.x + a.w / 2;
  const bx = b.x + b.w / 2 + Math.min(b.w / 3, offset / 3);
  const apex = edgeY + sign * (34 + offset);
  // A cubic with both control points at `ctrl` peaks at 3/4 of the way to it.
  const ctrl = apex + (apex - (ay + by) / 2) / 3;
  return {
    from: a.id,
    to: b.id,
    labels,
    path: `M ${r(ax)} ${r(ay)} C ${r(ax)} ${r(ctrl)}, ${r(bx)} ${r(ctrl)}, ${r(bx)} ${r(by)}`,
    labelX: r((ax + bx) / 2),
    labelY: r(side === 'above' ? apex - 4 - 12 * (labels.length - 1) : apex + 12),
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
