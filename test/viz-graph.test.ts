import test from 'ava';
import { agentMachine } from '../machines/agent';
import { nicMachine } from '../machines/nic';
import { portMachine } from '../machines/port';
import { toDot, toMermaid } from '../src/viz/graph-format';
import { layoutGraph } from '../src/viz/graph-layout';
import { agentMachineGraphs, type GraphTransition, type MachineGraph, machineGraph } from '../src/viz/machine-graph';

/**
 * An independent reading of a machine: its raw config object (what the
 * author wrote) rather than the StateNodes xstate built from it.
 */
interface RawConfig {
  initial?: string;
  states?: Record<string, RawConfig>;
  on?: Record<string, unknown>;
  always?: unknown;
  after?: Record<string, unknown>;
  invoke?: { src: string; onDone?: unknown; onError?: unknown } | Array<{ src: string; onDone?: unknown; onError?: unknown }>;
}

interface Expected {
  source: string;
  event: string;
  guard?: string;
  targets: string[];
}

function expectedFromConfig(config: RawConfig): { states: string[]; transitions: Expected[] } {
  const states: string[] = [];
  const transitions: Expected[] = [];
  const walk = (node: RawConfig, path: string[]): void => {
    const id = path.join('.');
    const parent = path.slice(0, -1);
    /** Targets in xstate config: a sibling key, or `.child` relative to the node itself. */
    const resolve = (target: string): string => (target.startsWith('.') ? [...path, target.slice(1)] : [...parent, target]).join('.');
    const add = (event: string, spec: unknown): void => {
      const list = Array.isArray(spec) ? spec : [spec];
      for (const t of list) {
        const obj = typeof t === 'string' ? { target: t } : (t as { target?: string; guard?: unknown });
        const guard = typeof obj.guard === 'string' ? obj.guard : obj.guard ? 'inline' : undefined;
        transitions.push({ source: id, event, ...(guard ? { guard } : {}), targets: obj.target ? [resolve(obj.target)] : [] });
      }
    };
    for (const [ev, spec] of Object.entries(node.on ?? {})) add(ev, spec);
    if (node.always) add('always', node.always);
    for (const [delay, spec] of Object.entries(node.after ?? {})) add(`after ${delay}`, spec);
    const invokes = node.invoke === undefined ? [] : Array.isArray(node.invoke) ? node.invoke : [node.invoke];
    for (const inv of invokes) {
      if (inv.onDone) add(`done(${inv.src})`, inv.onDone);
      if (inv.onError) add(`error(${inv.src})`, inv.onError);
    }
    for (const [key, child] of Object.entries(node.states ?? {})) {
      states.push([...path, key].join('.'));
      walk(child, [...path, key]);
    }
  };
  walk(config, []);
  return { states, transitions };
}

function asExpected(t: GraphTransition): Expected {
  const event = t.kind === 'done' ? `done(${t.event})` : t.kind === 'error' ? `error(${t.event})` : t.kind === 'after' ? `after ${t.event}` : t.event;
  const guard = t.guard === undefined ? undefined : /^[A-Za-z]+$/.test(t.guard) ? t.guard : 'inline';
  return { source: t.source, event, ...(guard ? { guard } : {}), targets: [...t.targets] };
}

const key = (e: Expected): string => JSON.stringify([e.source, e.event, e.guard ?? '', e.targets]);
const sorted = (list: Expected[]): string[] => list.map(key).sort();

for (const [name, machine] of [
  ['port', portMachine],
  ['nic', nicMachine],
  ['agent', agentMachine],
] as const) {
  test(`${name} machine: states and transitions equal its definition`, (t) => {
    const graph = machineGraph(machine);
    const expected = expectedFromConfig(machine.config as unknown as RawConfig);
    t.deepEqual(
      graph.states.map((s) => s.id),
      expected.states,
    );
    t.deepEqual(sorted(graph.transitions.map(asExpected)), sorted(expected.transitions));
    t.is(graph.initial, (machine.config as RawConfig).initial ?? '');
  });
}

test('port machine: the transitions an operator reads on the page, spelled out', (t) => {
  const g = machineGraph(portMachine);
  const find = (source: string, kind: string, event: string, guard?: string): GraphTransition | undefined =>
    g.transitions.find((x) => x.source === source && x.kind === kind && x.event === event && x.guard === guard);
  t.deepEqual(find('evaluating', 'always', 'always', 'isInvalid')?.targets, ['failed']);
  t.deepEqual(find('plugging', 'done', 'plug', 'isDirty')?.targets, ['evaluating']);
  t.deepEqual(find('plugging', 'done', 'plug')?.targets, ['plugged']);
  t.deepEqual(find('plugging', 'error', 'plug', 'isPermanent')?.targets, ['failed']);
  t.deepEqual(find('backoff', 'after', 'backoff')?.targets, ['evaluating']);
  t.is(find('backoff', 'after', 'backoff')?.delay, 'backoff');
  const reassert = find('plugged.reasserting', 'after', 'reassert');
  t.deepEqual(reassert?.targets, ['plugged.reasserting']);
  t.true(reassert?.reenter);
  t.deepEqual(reassert?.actions, ['reassertUp', 'assign(reassertIndex)']);
  // a DESIRED that repeats the applied intent changes no state
  t.deepEqual(find('plugged', 'event', 'DESIRED', 'intentUnchanged')?.targets, []);
  t.is(find('plugged.reasserting', 'always', 'always', 'context.reassertIndex >= context.timers.reassertMs.length')?.targets[0], 'plugged.steady');
  const states = new Map(g.states.map((s) => [s.id, s]));
  t.deepEqual(states.get('plugging')?.invoke, ['plug']);
  t.is(states.get('failed')?.type, 'compound');
  t.is(states.get('failed')?.initial, 'failed.reporting');
  t.is(states.get('failed.reported')?.parent, 'failed');
});

test('nic and agent machines: root transitions come from any state; inline guards read as their expression', (t) => {
  const nic = machineGraph(nicMachine);
  t.deepEqual(
    nic.transitions.filter((x) => x.source === '').map((x) => [x.event, x.targets]),
    [['STOP', ['stopped']]],
  );
  t.is(nic.states.find((s) => s.id === 'stopped')?.type, 'final');
  const agent = machineGraph(agentMachine);
  const c = agent.transitions.find((x) => x.source === 'connecting' && x.targets[0] === 'running');
  t.is(c?.guard, "event.state === 'valid'");
});

/** Mermaid stateDiagram-v2, as far as this exporter writes it: every line one of these statements. */
function checkMermaid(text: string, graph: MachineGraph): string[] {
  const problems: string[] = [];
  const lines = text.trimEnd().split('\n');
  if (lines[0] !== 'stateDiagram-v2') problems.push(`first line ${JSON.stringify(lines[0])}`);
  const declared = new Set<string>();
  const used: string[] = [];
  let depth = 0;
  let edges = 0;
  for (const raw of lines.slice(1)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if (line.startsWith('%%')) continue;
    if ((m = /^state "((?:[^"#:;]|#[0-9]+;)+)" as ([A-Za-z_][\w]*)$/.exec(line))) declared.add(m[2]!);
    else if ((m = /^state ([A-Za-z_][\w]*) \{$/.exec(line))) {
      declared.add(m[1]!);
      depth++;
    } else if (line === '}') depth--;
    else if ((m = /^(\[\*\]|[A-Za-z_][\w]*) --> (\[\*\]|[A-Za-z_][\w]*)(?: : ((?:[^;#:\n]|#[0-9]+;)+))?$/.exec(line))) {
      used.push(m[1]!, m[2]!);
      if (m[3] !== undefined) edges++;
    } else problems.push(`unrecognised line ${JSON.stringify(line)}`);
    if (depth < 0) problems.push('unbalanced }');
  }
  if (depth !== 0) problems.push(`unbalanced braces (${depth})`);
  for (const id of used) if (id !== '[*]' && !declared.has(id)) problems.push(`undeclared state ${id}`);
  const targeted = graph.transitions.reduce((n, x) => n + x.targets.length, 0);
  if (edges !== targeted) problems.push(`${edges} labelled edges for ${targeted} transitions`);
  return problems;
}

/** Graphviz dot, as far as this exporter writes it. */
function checkDot(text: string, graph: MachineGraph): string[] {
  const problems: string[] = [];
  const lines = text.trimEnd().split('\n');
  if (!/^digraph "[^"]+" \{$/.test(lines[0]!)) problems.push(`first line ${JSON.stringify(lines[0])}`);
  if (lines[lines.length - 1] !== '}') problems.push('last line is not }');
  const QS = '"(?:[^"\\\\]|\\\\.)*"';
  const nodes = new Set<string>();
  const clusters = new Set<string>();
  let depth = 0;
  let edges = 0;
  for (const raw of lines) {
    const line = raw.trim();
    let m: RegExpExecArray | null = null;
    if (line.startsWith('//')) continue;
    if (/^digraph /.test(line) || (m = new RegExp(`^subgraph (${QS}) \\{$`).exec(line))) {
      if (m) clusters.add(JSON.parse(m[1]!) as string);
      depth++;
      m = null;
    } else if (line === '}') depth--;
    else if (/^(rankdir|compound|label|style)=[^;]+;$/.test(line) || /^(node|edge) \[[^\]]+\];$/.test(line)) continue;
    else if ((m = new RegExp(`^(${QS}) -> (${QS})(?: \\[(.*)\\])?;$`).exec(line))) {
      for (const end of [m[1]!, m[2]!]) if (!nodes.has(JSON.parse(end) as string)) problems.push(`edge to undeclared node ${end}`);
      const attrs = m[3] ?? '';
      for (const c of attrs.matchAll(new RegExp(`l(?:head|tail)=(${QS})`, 'g'))) {
        if (!clusters.has(JSON.parse(c[1]!) as string)) problems.push(`unknown cluster ${c[1]}`);
      }
      if (/label=/.test(attrs)) edges++;
    } else if ((m = new RegExp(`^(${QS}) \\[(.*)\\];$`).exec(line))) nodes.add(JSON.parse(m[1]!) as string);
    else problems.push(`unrecognised line ${JSON.stringify(line)}`);
  }
  if (depth !== 0) problems.push(`unbalanced braces (${depth})`);
  const targeted = graph.transitions.reduce((n, x) => n + x.targets.length, 0);
  if (edges !== targeted) problems.push(`${edges} labelled edges for ${targeted} transitions`);
  return problems;
}

for (const [name, graph] of Object.entries(agentMachineGraphs())) {
  test(`${name} machine: mermaid and dot exports are well-formed and carry every transition`, (t) => {
    t.deepEqual(checkMermaid(toMermaid(graph), graph), []);
    t.deepEqual(checkDot(toDot(graph), graph), []);
  });

  test(`${name} machine: layout gives every top-level state a box, inside the drawing, none overlapping`, (t) => {
    const layout = layoutGraph(graph);
    const tops = graph.states.filter((s) => s.parent === undefined).map((s) => s.id);
    t.deepEqual(layout.boxes.map((b) => b.id).sort(), [...tops].sort());
    for (const b of layout.boxes) {
      t.true(b.x >= 0 && b.y >= 0 && b.x + b.w <= layout.width && b.y + b.h <= layout.height, `${b.id} inside`);
      for (const c of b.children) t.true(c.x >= b.x && c.y >= b.y && c.x + c.w <= b.x + b.w && c.y + c.h <= b.y + b.h, `${c.id} inside ${b.id}`);
      for (const o of layout.boxes) {
        if (o === b) continue;
        const apart = b.x + b.w <= o.x || o.x + o.w <= b.x || b.y + b.h <= o.y || o.y + o.h <= b.y;
        t.true(apart, `${b.id} and ${o.id} do not overlap`);
      }
    }
    for (const e of layout.edges) {
      t.true(e.labelY >= 0 && e.labelY <= layout.height, `label of ${e.from} -> ${e.to} inside`);
      t.regex(e.path, /^M [0-9.]+ [0-9.]+ [QC] /);
    }
  });
}

test('mermaid labels carry :, ; # and quotes as entity codes (its lexer ends a label at : and ;)', (t) => {
  const graph: MachineGraph = {
    id: 'm',
    initial: 'a',
    states: [
      { id: 'a', key: 'a', type: 'atomic', entry: [], exit: [], invoke: [] },
      { id: 'b', key: 'b', type: 'atomic', entry: [], exit: [], invoke: [] },
    ],
    transitions: [{ source: 'a', kind: 'event', event: 'GO', guard: 'x: 1; y # \'z\' "q"', targets: ['b'], reenter: false, actions: [] }],
  };
  const text = toMermaid(graph);
  t.true(text.includes("a --> b : GO [x#58; 1#59; y #35; 'z' #34;q#34;]"), text);
  t.deepEqual(checkMermaid(text, graph), []);
});

test('the format checkers above reject broken output (so their passing means something)', (t) => {
  const g = machineGraph(portMachine);
  const mermaid = toMermaid(g);
  t.notDeepEqual(checkMermaid(mermaid.replace('  }\n', ''), g), []);
  t.notDeepEqual(checkMermaid(mermaid.replace('plugging --> plugged', 'plugging --> plugged_nowhere'), g), []);
  t.notDeepEqual(checkMermaid(mermaid.replace(/^.*--> backoff.*$/m, ''), g), []);
  const dot = toDot(g);
  t.notDeepEqual(checkDot(dot.replace('"plugging" [label="plugging"];', ''), g), []);
  t.notDeepEqual(checkDot(dot.replace('lhead="cluster_failed"', 'lhead="cluster_nope"'), g), []);
  t.notDeepEqual(checkDot(dot.replace(/\}\n$/, ''), g), []);
});
