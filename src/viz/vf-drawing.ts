/**
 * One spp_vf drawn as the seed's "Component composition of spp_vf" figure:
 * the physical NIC, the classifier and the merger, and per vhost the port
 * the classifier sends to it, the forwarders its layout has (none in a
 * layout without forwarders), the port its frames go back to the merger on,
 * and the vhost. Boxes follow the configured components (types, shared
 * cores) and the plug targets (where the entry and the tags are). Every line of text comes from
 * the vf status the agent last read (observed), with what the port asks
 * for (desired) written beside it where the two differ. Pure geometry: the
 * page only turns nodes into SVG rects and texts, in a monospace font whose
 * width the sizes here assume, so no text leaves its box and boxes never
 * share space.
 */
import type { NicTag } from '../../machines/tags';
import type { NicView, TapView, VhostClaim } from '../agent/view';
import { driftRemedy } from '../plan/drift';
import { type ComponentSpec, portNames } from '../protocol/layout';
import type { ClassifierEntry, PortAttachment, RunningComponent, VlanSetting } from '../sppctl/wire';
import type { CompareRow } from './compare';
import type { Phase, PortRow } from './port-rows';
import { tapPortsOf } from './tap-rows';

export interface DrawLine {
  readonly text: string;
  /** entry (classifier entry), vlan (tag operation), diff (desired, where observed differs), missing, tap (a ring a tap flow moved). */
  readonly cls?: 'entry' | 'vlan' | 'diff' | 'missing' | 'title' | 'tap';
}

export interface DrawNode {
  readonly id: string;
  readonly kind: 'nic' | 'classifier' | 'merger' | 'forward' | 'ring' | 'vhost' | 'mirror';
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly lines: readonly DrawLine[];
  /** Observed and desired differ here (or the component is not running). */
  readonly differs: boolean;
  readonly vhostId?: number;
  readonly portId?: string;
  readonly phase?: Phase;
}

export interface DrawEdge {
  readonly from: string;
  readonly to: string;
  readonly path: string;
}

export interface VfDrawing {
  readonly secId: number;
  readonly title: string;
  readonly state: string;
  /** The NIC machine's tags in `state`: the page colours the badge by them. */
  readonly tags: readonly NicTag[];
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly DrawNode[];
  readonly edges: readonly DrawEdge[];
  /** Where the vf differs from the configured layout (an older agent built it), with what to do. */
  readonly warnings?: readonly string[];
}

/** Width of one character of the page's 11px monospace font, with a margin. */
export const CHAR_W = 7;
export const LINE_H = 15;
const PAD_X = 7;
const PAD_Y = 5;
/** The spaces between columns, rows and around a drawing (the mirror's drawing uses them too). */
export const COL_GAP = 36;
export const ROW_GAP = 18;
export const MARGIN = 8;

const vlanText = (v: VlanSetting): string => (v.operation === 'add' ? `vlan add ${v.id}${v.pcp ? ` pcp ${v.pcp}` : ''}` : `vlan ${v.operation}`);
const entryText = (e: ClassifierEntry): string => `${e.type} ${e.value}`;
export const heightOf = (lines: readonly DrawLine[]): number => lines.length * LINE_H + 2 * PAD_Y;
export const widthOf = (lines: readonly DrawLine[]): number => Math.max(...lines.map((l) => l.text.length)) * CHAR_W + 2 * PAD_X;

interface Draft {
  readonly id: string;
  readonly kind: DrawNode['kind'];
  readonly lines: DrawLine[];
  differs: boolean;
  readonly vhostId?: number;
  readonly portId?: string;
  readonly phase?: Phase;
}

/** The port a vhost is drawn for: the one whose intent names it, else the claim's owner. */
function ownerRow(vhostId: number, rows: readonly PortRow[], claim: VhostClaim | undefined): PortRow | undefined {
  const naming = rows.filter((r) => r.vhostId === vhostId);
  return naming.find((r) => r.phase !== 'free') ?? naming[0] ?? rows.find((r) => r.portId === claim?.owner);
}

export function drawVf(
  nic: NicView,
  rows: readonly PortRow[],
  compare: Readonly<Record<string, readonly CompareRow[]>>,
  claims: readonly VhostClaim[],
  taps: readonly TapView[] = [],
): VfDrawing {
  const { layout, status } = nic;
  // the ports live tap flows moved into or added from the mirror: drawn as such, not as a difference
  const tapPorts = tapPortsOf(taps, layout.secId);
  const running = new Map<string, RunningComponent>();
  for (const c of status?.components ?? []) if (c.type !== 'unuse') running.set(c.name, c);
  const notRunning: DrawLine = { text: status ? 'not running' : 'status not read yet', cls: 'missing' };
  const has = (list: readonly PortAttachment[] | undefined, port: string): PortAttachment | undefined => list?.find((p) => p.port === port);
  const phy = portNames.phy(layout.index);
  /** "core 2", or "core 2 shared" when another component of the layout runs there too. */
  const core = (spec: ComponentSpec | undefined): string =>
    spec ? `core ${spec.core}${layout.components.some((o) => o !== spec && o.core === spec.core) ? ' shared' : ''}` : 'core ?';

  /** A component box: its name, type and core, and what differs from the layout (not attached ports, another type). */
  const component = (spec: ComponentSpec, kind: Draft['kind']): Draft => {
    const id = spec.name;
    const c = running.get(id);
    const lines: DrawLine[] = [{ text: `${id} · ${spec.type} · ${core(spec)}`, cls: 'title' }];
    if (!c) return { id, kind, lines: [...lines, notRunning], differs: true };
    const mine = tapPorts.filter((tp) => tp.component === id);
    const moved = (port: string, dir: 'rx' | 'tx'): boolean => mine.some((tp) => tp.moved && tp.port === port && tp.dir === dir);
    const missing = [
      ...spec.rx.filter((p) => !has(c.rx_port, p) && !moved(p, 'rx')).map((p) => `rx ${p}`),
      ...spec.tx.filter((p) => !has(c.tx_port, p) && !moved(p, 'tx')).map((p) => `tx ${p}`),
    ];
    for (const m of missing) lines.push({ text: `not attached: ${m}`, cls: 'diff' });
    for (const tp of mine) lines.push({ text: tp.text, cls: 'tap' });
    const otherType = c.type !== spec.type && !(spec.type === 'classifier_mac' && (c.type as string) === 'classifier');
    if (otherType) lines.push({ text: `runs as ${c.type}`, cls: 'diff' });
    return { id, kind, lines, differs: missing.length > 0 || otherType };
  };
  const vhostPort = (v: number): string => portNames.vhost(v);
  const feederOf = (v: number): ComponentSpec | undefined => layout.components.find((c) => c.tx.includes(vhostPort(v)));
  const drainOf = (v: number): ComponentSpec | undefined => layout.components.find((c) => c.rx.includes(vhostPort(v)));

  const nicNode: Draft = {
    id: 'nic',
    kind: 'nic',
    lines: [{ text: `NIC ${phy}`, cls: 'title' }, { text: layout.nic.pci_address }, { text: layout.nic.physical_network ?? '' }],
    differs: false,
  };
  // the classifier reads the NIC, the merger writes it (checked by the layout rules)
  const classifierSpec = layout.components.find((c) => c.type === 'classifier_mac') ?? layout.components[0]!;
  const mergerSpec = layout.components.find((c) => c.type === 'merge' && c.tx.includes(phy)) ?? layout.components[layout.components.length - 1]!;
  const classifier = component(classifierSpec, 'classifier');
  const merger = component(mergerSpec, 'merger');

  const perVhost = layout.targets.map((tg) => {
    const v = tg.vhostId;
    const row = ownerRow(
      v,
      rows,
      claims.find((c) => c.vhostId === v),
    );
    const cmp = row ? (compare[row.portId] ?? []) : [];
    const differing = (field: CompareRow['field']): CompareRow | undefined => cmp.find((r) => r.field === field && !r.same);
    const feeder = feederOf(v);
    const drain = drainOf(v);
    const fwdTxSpec = feeder && feeder.name !== tg.untag.component ? feeder : undefined;
    const fwdRxSpec = drain && drain.name !== mergerSpec.name ? drain : undefined;
    // the port the classifier sends to the VM on: a ring to a forwarder, or the vhost itself
    const direct = tg.entryPort === vhostPort(v);
    const toVmId = direct ? `${tg.untag.component}>${tg.entryPort}` : tg.entryPort;
    // the port the VM's frames reach the merger on: the forwarder's ring, or the vhost itself
    const fromVmPort = fwdRxSpec?.tx[0] ?? vhostPort(v);
    const fromVmId = fwdRxSpec ? fromVmPort : `${vhostPort(v)}>${mergerSpec.name}`;

    // the port to the VM carries the classifier's entries for this vhost and the tag operation of the classifier's tx
    const entries = (status?.classifier_table ?? []).filter((e) => e.port === tg.entryPort);
    const toTitle = direct ? `${tg.untag.component} → ${tg.entryPort}` : `${tg.entryPort} → vhost:${v}`;
    const ringTo: Draft = { id: toVmId, kind: 'ring', lines: [{ text: toTitle, cls: 'title' }], differs: false, vhostId: v };
    for (const e of entries) ringTo.lines.push({ text: entryText(e), cls: 'entry' });
    const txVlan = has(running.get(tg.untag.component)?.tx_port, tg.untag.port)?.vlan;
    if (txVlan && txVlan.operation !== 'none') ringTo.lines.push({ text: `tx ${vlanText(txVlan)}`, cls: 'vlan' });
    if (entries.length === 0) ringTo.lines.push({ text: 'no classifier entry', cls: 'missing' });
    const rule = differing('classifier rule');
    const toVm = differing('classifier tx vlan (to VM)');
    if (rule) ringTo.lines.push({ text: `desired: ${rule.desired}`, cls: 'diff' });
    if (toVm) ringTo.lines.push({ text: `desired tx: ${toVm.desired}`, cls: 'diff' });
    // entries nobody asks for: no port plugs this vhost
    const stale = entries.length > 0 && (!row || row.phase === 'free');
    if (stale) ringTo.lines.push({ text: 'desired: none', cls: 'diff' });
    ringTo.differs = Boolean(rule || toVm || stale);

    const fwdTx = fwdTxSpec ? component(fwdTxSpec, 'forward') : undefined;
    const fwdRx = fwdRxSpec ? component(fwdRxSpec, 'forward') : undefined;
    const ringFrom: Draft = { id: fromVmId, kind: 'ring', lines: [{ text: `${fromVmPort} → ${mergerSpec.name}`, cls: 'title' }], differs: false, vhostId: v };
    // the tag goes where the layout puts it: on vhost:v at its forwarder (c33920f), or on the merger's rx (final)
    const tagBox = fwdRx && tg.tag.component === fwdRx.id ? fwdRx : ringFrom;
    const rxVlan = has(running.get(tg.tag.component)?.rx_port, tg.tag.port)?.vlan;
    if (rxVlan && rxVlan.operation !== 'none') tagBox.lines.splice(1, 0, { text: `rx ${vlanText(rxVlan)}`, cls: 'vlan' });
    const fromVm = differing('vhost rx vlan (from VM)');
    if (fromVm) {
      tagBox.lines.push({ text: `desired rx: ${fromVm.desired}`, cls: 'diff' });
      tagBox.differs = true;
    }

    const vhostLines: DrawLine[] = [{ text: `vhost:${v}`, cls: 'title' }];
    if (row) {
      // the id's first block names the port well enough here; the list and the panel show it whole
      // the legend's word for the state (the machine's state name is in the port's panel)
      vhostLines.push({ text: row.phase }, { text: `port ${row.portId.slice(0, 8)}…` });
      if (row.mac) vhostLines.push({ text: `mac ${row.mac}` });
      // an invalid request (a VLAN id out of range, a bad MAC) is not drawn as if it were flat
      if (row.binding) vhostLines.push({ text: row.binding, ...(row.binding === 'invalid request' ? { cls: 'diff' as const } : {}) });
    } else {
      vhostLines.push({ text: 'free' }, { text: 'no port' });
    }
    const vhost: Draft = {
      id: portNames.vhost(v),
      kind: 'vhost',
      lines: vhostLines,
      differs: false,
      vhostId: v,
      phase: row?.phase ?? 'free',
      ...(row ? { portId: row.portId } : {}),
    };
    return { v, ringTo, fwdTx, fwdRx, ringFrom, vhost };
  });

  // columns, each as wide as its longest line
  const colWidth = (drafts: readonly Draft[]): number => Math.max(...drafts.map((d) => widthOf(d.lines)));
  const xNic = MARGIN;
  const wNic = widthOf(nicNode.lines);
  const xMid = xNic + wNic + COL_GAP;
  const wMid = colWidth([classifier, merger]);
  const xRing = xMid + wMid + COL_GAP;
  const wRing = colWidth(perVhost.flatMap((p) => [p.ringTo, p.ringFrom]));
  const xFwd = xRing + wRing + COL_GAP;
  const forwarders = perVhost.flatMap((p) => [p.fwdTx, p.fwdRx].filter((d): d is Draft => d !== undefined));
  // no forwarders at all: no column for them
  const wFwd = forwarders.length > 0 ? colWidth(forwarders) : -COL_GAP;
  const xVhost = xFwd + wFwd + COL_GAP;
  const wVhost = colWidth(perVhost.map((p) => p.vhost));

  const nodes: DrawNode[] = [];
  const place = (d: Draft, x: number, y: number, w: number, h = heightOf(d.lines)): DrawNode => {
    const n: DrawNode = {
      id: d.id,
      kind: d.kind,
      x,
      y,
      w,
      h,
      lines: d.lines,
      differs: d.differs,
      ...(d.vhostId !== undefined ? { vhostId: d.vhostId } : {}),
      ...(d.portId !== undefined ? { portId: d.portId } : {}),
      ...(d.phase !== undefined ? { phase: d.phase } : {}),
    };
    nodes.push(n);
    return n;
  };
  const edges: DrawEdge[] = [];
  const link = (from: DrawNode, fromY: number, to: DrawNode, toY: number, rightToLeft = false): void => {
    const x1 = rightToLeft ? from.x : from.x + from.w;
    const x2 = rightToLeft ? to.x + to.w : to.x;
    const mid = (x1 + x2) / 2;
    edges.push({ from: from.id, to: to.id, path: `M ${x1} ${fromY} C ${mid} ${fromY}, ${mid} ${toY}, ${x2} ${toY}` });
  };
  const midY = (n: DrawNode): number => n.y + n.h / 2;

  let y = MARGIN;
  const rowsPlaced = perVhost.map((p) => {
    const top = y;
    const upper = Math.max(heightOf(p.ringTo.lines), p.fwdTx ? heightOf(p.fwdTx.lines) : 0);
    const lowerTop = top + upper + 8;
    const lower = Math.max(heightOf(p.ringFrom.lines), p.fwdRx ? heightOf(p.fwdRx.lines) : 0);
    const rowH = Math.max(lowerTop + lower - top, heightOf(p.vhost.lines));
    const ringTo = place(p.ringTo, xRing, top, wRing);
    const fwdTx = p.fwdTx ? place(p.fwdTx, xFwd, top, wFwd) : undefined;
    const ringFrom = place(p.ringFrom, xRing, lowerTop, wRing);
    const fwdRx = p.fwdRx ? place(p.fwdRx, xFwd, lowerTop, wFwd) : undefined;
    const vhost = place(p.vhost, xVhost, top, wVhost, rowH);
    y = top + rowH + ROW_GAP;
    return { ringTo, fwdTx, ringFrom, fwdRx, vhost };
  });
  const hClass = heightOf(classifier.lines);
  const hMerge = heightOf(merger.lines);
  const bottom = Math.max(y - ROW_GAP, MARGIN + hClass + hMerge + ROW_GAP);
  const nicN = place(nicNode, xNic, MARGIN, wNic, bottom - MARGIN);
  const classN = place(classifier, xMid, MARGIN, wMid);
  const mergeN = place(merger, xMid, bottom - hMerge, wMid);
  link(nicN, midY(classN), classN, midY(classN));
  link(mergeN, midY(mergeN), nicN, midY(mergeN), true);
  for (const r of rowsPlaced) {
    link(classN, midY(classN), r.ringTo, midY(r.ringTo));
    if (r.fwdTx) {
      link(r.ringTo, r.fwdTx.y + r.fwdTx.h / 2, r.fwdTx, midY(r.fwdTx));
      link(r.fwdTx, midY(r.fwdTx), r.vhost, midY(r.fwdTx));
    } else link(r.ringTo, midY(r.ringTo), r.vhost, midY(r.ringTo));
    if (r.fwdRx) {
      link(r.vhost, midY(r.fwdRx), r.fwdRx, midY(r.fwdRx), true);
      link(r.fwdRx, midY(r.fwdRx), r.ringFrom, r.fwdRx.y + r.fwdRx.h / 2, true);
    } else link(r.vhost, midY(r.ringFrom), r.ringFrom, midY(r.ringFrom), true);
    link(r.ringFrom, midY(r.ringFrom), mergeN, midY(mergeN), true);
  }
  const physnet = layout.nic.physical_network ? `, ${layout.nic.physical_network}` : '';
  return {
    secId: layout.secId,
    title: `spp_vf ${layout.secId} · NIC ${layout.nic.pci_address} (${phy}${physnet}) · master core ${layout.masterCore}`,
    state: nic.state,
    tags: nic.tags,
    width: xVhost + wVhost + MARGIN,
    height: bottom + MARGIN,
    nodes,
    edges,
    ...(nic.drift && nic.drift.length > 0 ? { warnings: [...nic.drift, driftRemedy(layout.secId)] } : {}),
  };
}
