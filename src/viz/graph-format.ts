/**
 * Text forms of a machine graph for docs: Mermaid `stateDiagram-v2`,
 * Graphviz dot, JSON. Transitions that change no state (actions only) are
 * listed as comments, since neither diagram language has an edge for them.
 */
import { type GraphState, type MachineGraph, transitionLabel } from './machine-graph';

export const GRAPH_FORMATS = ['mermaid', 'dot', 'json'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

const ANY = 'any_state';

export function formatGraph(graph: MachineGraph, format: GraphFormat): string {
  switch (format) {
    case 'mermaid':
      return toMermaid(graph);
    case 'dot':
      return toDot(graph);
    case 'json':
      return `${JSON.stringify(graph, null, 2)}\n`;
  }
}

const mermaidId = (path: string): string => (path === '' ? ANY : path.replace(/\./g, '_'));
/**
 * Mermaid's state-diagram lexer ends a label at `:` or `;` and reads `#` as
 * an entity start, so those (and quotes) are written as its entity codes.
 */
const mermaidText = (s: string): string =>
  s
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[#:;"]/g, (c) => `#${c.charCodeAt(0)};`);

export function toMermaid(graph: MachineGraph): string {
  const lines: string[] = ['stateDiagram-v2', `  %% machine ${graph.id}, extracted from its definition`];
  const children = childrenOf(graph);
  const declare = (state: GraphState, indent: string): void => {
    const kids = children.get(state.id) ?? [];
    const id = mermaidId(state.id);
    if (kids.length === 0) {
      lines.push(`${indent}state "${mermaidText(state.key)}" as ${id}`);
      if (state.type === 'final') lines.push(`${indent}${id} --> [*]`);
      return;
    }
    // `state "label" as id {` is not accepted by every Mermaid version; the plain form is.
    lines.push(`${indent}state ${id} {`);
    for (const k of kids) declare(k, `${indent}  `);
    if (state.initial) lines.push(`${indent}  [*] --> ${mermaidId(state.initial)}`);
    lines.push(`${indent}}`);
  };
  for (const s of children.get('') ?? []) declare(s, '  ');
  if (graph.initial) lines.push(`  [*] --> ${mermaidId(graph.initial)}`);
  if (graph.transitions.some((t) => t.source === '' && t.targets.length > 0)) lines.push(`  state "(any state)" as ${ANY}`);
  for (const t of graph.transitions) {
    const label = mermaidText(transitionLabel(t));
    if (t.targets.length === 0) {
      lines.push(`  %% ${t.source || '(any state)'}: ${label} (actions only: ${t.actions.join(', ') || 'none'})`);
      continue;
    }
    for (const target of t.targets) lines.push(`  ${mermaidId(t.source)} --> ${mermaidId(target)} : ${label}`);
  }
  return `${lines.join('\n')}\n`;
}

const dotString = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function toDot(graph: MachineGraph): string {
  const lines: string[] = [
    `digraph ${dotString(graph.id)} {`,
    '  rankdir=LR;',
    '  compound=true;',
    '  node [shape=box, style=rounded, fontname="sans-serif"];',
    '  edge [fontname="sans-serif", fontsize=10];',
    '  "__start" [shape=point, label=""];',
  ];
  const children = childrenOf(graph);
  const byId = new Map(graph.states.map((s) => [s.id, s]));
  /** Graphviz draws edges between nodes only: a compound state is entered at its initial leaf. */
  const leafOf = (id: string): string => {
    let s = byId.get(id);
    while (s?.initial) s = byId.get(s.initial);
    return s?.id ?? id;
  };
  const cluster = (id: string): string => `cluster_${id.replace(/\./g, '_')}`;
  const declare = (state: GraphState, indent: string): void => {
    const kids = children.get(state.id) ?? [];
    if (kids.length === 0) {
      const shape = state.type === 'final' ? ', peripheries=2' : '';
      lines.push(`${indent}${dotString(state.id)} [label=${dotString(state.key)}${shape}];`);
      return;
    }
    lines.push(`${indent}subgraph ${dotString(cluster(state.id))} {`, `${indent}  label=${dotString(state.key)};`, `${indent}  style=rounded;`);
    for (const k of kids) declare(k, `${indent}  `);
    lines.push(`${indent}}`);
  };
  for (const s of children.get('') ?? []) declare(s, '  ');
  if (graph.initial) lines.push(`  "__start" -> ${dotString(leafOf(graph.initial))};`);
  if (graph.transitions.some((t) => t.source === '' && t.targets.length > 0)) lines.push(`  ${dotString(ANY)} [label="(any state)", style=dashed];`);
  const isCompound = (id: string): boolean => (children.get(id) ?? []).length > 0;
  for (const t of graph.transitions) {
    const label = transitionLabel(t);
    if (t.targets.length === 0) {
      lines.push(`  // ${(t.source || '(any state)').replace(/\n/g, ' ')}: ${label.replace(/\n/g, ' ')} (actions only)`);
      continue;
    }
    for (const target of t.targets) {
      const from = t.source === '' ? ANY : leafOf(t.source);
      const attrs = [`label=${dotString(label)}`];
      if (t.source !== '' && isCompound(t.source)) attrs.push(`ltail=${dotString(cluster(t.source))}`);
      if (isCompound(target)) attrs.push(`lhead=${dotString(cluster(target))}`);
      lines.push(`  ${dotString(from)} -> ${dotString(leafOf(target))} [${attrs.join(', ')}];`);
    }
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/** Child states by parent path ('' for the top level), in definition order. */
export function childrenOf(graph: MachineGraph): Map<string, GraphState[]> {
  const out = new Map<string, GraphState[]>();
  for (const s of graph.states) {
    const p = s.parent ?? '';
    out.set(p, [...(out.get(p) ?? []), s]);
  }
  return out;
}

/** The top-level state a state path belongs to (`plugged.steady` -> `plugged`). */
export function topLevelOf(path: string): string {
  return path.split('.')[0] ?? path;
}
