/**
 * The host's spp_mirror drawn beside the spp_vfs: per configured component
 * (mirror_<k> on its core, with its two configured rings), the rings it
 * reads on the left and writes on the right, each ring saying which vf
 * component it was taken from or goes to, and for which tap flow. Observed
 * (the mirror status the agent last read) against what the live flows ask
 * for: a ring a flow holds up needs but the mirror lacks, or one no flow
 * asks for, is marked. Pure geometry in vf-drawing.ts's units.
 */
import type { NicTag } from '../../machines/tags';
import type { MirrorView, TapView } from '../agent/view';
import type { MirrorStatus } from '../sppctl/wire';
import { liveTapHints } from './tap-rows';
import { COL_GAP, type DrawEdge, type DrawLine, type DrawNode, heightOf, MARGIN, ROW_GAP, widthOf } from './vf-drawing';

export interface MirrorDrawing {
  readonly secId: number;
  readonly title: string;
  readonly state: string;
  readonly tags: readonly NicTag[];
  readonly lastError?: string;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly DrawNode[];
  readonly edges: readonly DrawEdge[];
}

type Dir = 'rx' | 'tx';
interface Want {
  readonly lines: DrawLine[];
  /** The flow holds it up: the ring must be attached. */
  readonly required: boolean;
}

/** What each live flow puts on each mirror component's ports: `component/dir/port` -> words. */
function wantedPorts(taps: readonly TapView[]): Map<string, Want> {
  const out = new Map<string, Want>();
  for (const { hint: h, required } of liveTapHints(taps)) {
    if (!h.process.startsWith('mirror ')) continue;
    out.set(`${h.component}/${h.dir}/${h.port}`, { lines: h.lines.map((text) => ({ text, cls: 'tap' as const })), required });
  }
  return out;
}

function running(status: MirrorStatus | undefined, name: string): { rx: string[]; tx: string[] } | undefined {
  const c = status?.components.find((x) => 'name' in x && x.name === name);
  return c && 'name' in c ? { rx: c.rx_port.map((p) => p.port), tx: c.tx_port.map((p) => p.port) } : undefined;
}

export function drawMirror(mirror: MirrorView, taps: readonly TapView[]): MirrorDrawing {
  const wanted = wantedPorts(taps);
  const owners = new Map<string, string>();
  for (const tap of taps) for (const m of tap.mirrors ?? []) if (!tap.tags.includes('free')) owners.set(m.component, `tap ${tap.flowId} ${m.dir}`);

  const rows = mirror.components.map((decl) => {
    const obs = running(mirror.status, decl.name);
    const used = owners.get(decl.name);
    const lines: DrawLine[] = [{ text: `${decl.name} · mirror · core ${decl.core}`, cls: 'title' }, { text: `rings ${decl.ports.join(' ')}` }];
    lines.push(used ? { text: used, cls: 'tap' } : { text: 'free' });
    const needed = [...wanted.entries()].some(([k, w]) => k.startsWith(`${decl.name}/`) && w.required);
    if (!obs) lines.push({ text: mirror.status ? 'not running' : 'status not read yet', cls: 'missing' });
    const ringDrafts = (dir: Dir): { id: string; lines: DrawLine[]; differs: boolean }[] => {
      const seen = obs ? obs[dir] : [];
      const asked = [...wanted.keys()].filter((k) => k.startsWith(`${decl.name}/${dir}/`)).map((k) => k.slice(`${decl.name}/${dir}/`.length));
      return [...new Set([...seen, ...asked])].map((port) => {
        const w = wanted.get(`${decl.name}/${dir}/${port}`);
        const out: DrawLine[] = [{ text: `${dir} ${port}`, cls: 'title' }, ...(w?.lines ?? [])];
        let differs = false;
        if (!seen.includes(port) && w?.required) {
          out.push({ text: 'not attached', cls: 'diff' });
          differs = true;
        } else if (!seen.includes(port)) out.push({ text: 'not attached yet', cls: 'missing' });
        if (!w) {
          out.push({ text: 'no tap flow asks for it', cls: 'diff' });
          differs = true;
        }
        return { id: `${decl.name}/${dir}/${port}`, lines: out, differs };
      });
    };
    return { decl, comp: { lines, differs: !obs && needed }, rx: ringDrafts('rx'), tx: ringDrafts('tx') };
  });

  const allRx = rows.flatMap((r) => r.rx);
  const allTx = rows.flatMap((r) => r.tx);
  const wRx = allRx.length > 0 ? Math.max(...allRx.map((d) => widthOf(d.lines))) : 0;
  const wComp = rows.length > 0 ? Math.max(...rows.map((r) => widthOf(r.comp.lines))) : 0;
  const wTx = allTx.length > 0 ? Math.max(...allTx.map((d) => widthOf(d.lines))) : 0;
  const xRx = MARGIN;
  const xComp = xRx + (wRx > 0 ? wRx + COL_GAP : 0);
  const xTx = xComp + wComp + COL_GAP;

  const nodes: DrawNode[] = [];
  const edges: DrawEdge[] = [];
  const link = (from: DrawNode, to: DrawNode): void => {
    const x1 = from.x + from.w;
    const x2 = to.x;
    const y1 = from.y + from.h / 2;
    const y2 = to.y + to.h / 2;
    const mid = (x1 + x2) / 2;
    edges.push({ from: from.id, to: to.id, path: `M ${x1} ${y1} C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}` });
  };
  const place = (id: string, kind: DrawNode['kind'], lines: readonly DrawLine[], differs: boolean, x: number, y: number, w: number): DrawNode => {
    const n: DrawNode = { id, kind, x, y, w, h: heightOf(lines), lines, differs };
    nodes.push(n);
    return n;
  };
  let y = MARGIN;
  for (const r of rows) {
    const stack = (drafts: typeof r.rx, x: number, w: number): DrawNode[] => {
      let yy = y;
      return drafts.map((d) => {
        const n = place(d.id, 'ring', d.lines, d.differs, x, yy, w);
        yy += n.h + 8;
        return n;
      });
    };
    const rxNodes = stack(r.rx, xRx, wRx);
    const txNodes = stack(r.tx, xTx, wTx);
    const comp = place(r.decl.name, 'mirror', r.comp.lines, r.comp.differs, xComp, y, wComp);
    for (const n of rxNodes) link(n, comp);
    for (const n of txNodes) link(comp, n);
    const bottom = Math.max(comp.y + comp.h, ...rxNodes.map((n) => n.y + n.h), ...txNodes.map((n) => n.y + n.h));
    y = bottom + ROW_GAP;
  }
  const claimed = rows.filter((r) => owners.has(r.decl.name)).length;
  return {
    secId: mirror.secId,
    title: `spp_mirror ${mirror.secId} · ${mirror.components.length} component(s), ${claimed} used by tap flows`,
    state: mirror.state,
    tags: mirror.tags,
    ...(mirror.lastError ? { lastError: mirror.lastError } : {}),
    width: (wTx > 0 ? xTx + wTx : xComp + wComp) + MARGIN,
    height: Math.max(y - ROW_GAP, MARGIN) + MARGIN,
    nodes,
    edges,
  };
}
