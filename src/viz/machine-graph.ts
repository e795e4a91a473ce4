/**
 * States and transitions of an XState v5 machine, read from its StateNodes
 * at runtime, so diagrams and docs always show the definitions the agent
 * runs. Pure: no I/O, no layout.
 */
import type { AnyStateMachine } from 'xstate';
import { agentMachine } from '../../machines/agent';
import { nicMachine } from '../../machines/nic';
import { portMachine } from '../../machines/port';

export type StateKind = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface GraphState {
  /** Path below the root, dot-separated: `plugged.steady` (what `stateName` prints). */
  readonly id: string;
  readonly key: string;
  /** Path of the enclosing state; undefined for top-level states. */
  readonly parent?: string;
  readonly type: StateKind;
  /** Path of the initial child of a compound state. */
  readonly initial?: string;
  readonly entry: readonly string[];
  readonly exit: readonly string[];
  /** Sources of the actors invoked while in the state. */
  readonly invoke: readonly string[];
}

export type TransitionKind = 'event' | 'always' | 'after' | 'done' | 'error';

export interface GraphTransition {
  /** Path of the state that owns the transition; '' for the machine root (taken from any state). */
  readonly source: string;
  readonly kind: TransitionKind;
  /** The event type for `event`; for `done`/`error` the invoked actor's src; for `after` the delay. */
  readonly event: string;
  /** Named guard, or the inline guard's expression. */
  readonly guard?: string;
  /** Target paths; empty for a transition that only runs actions (no state change). */
  readonly targets: readonly string[];
  /** Delay (name of a `delays` entry, or milliseconds) of an `after` transition. */
  readonly delay?: string | number;
  readonly reenter: boolean;
  readonly actions: readonly string[];
}

export interface MachineGraph {
  readonly id: string;
  readonly initial: string;
  readonly states: readonly GraphState[];
  readonly transitions: readonly GraphTransition[];
}

/** The subset of xstate's StateNode this module reads (its public fields). */
interface NodeLike {
  readonly id: string;
  readonly key: string;
  readonly type: StateKind;
  readonly path: readonly string[];
  readonly states: Record<string, NodeLike>;
  readonly initial?: { readonly target: readonly NodeLike[] };
  readonly entry: readonly unknown[];
  readonly exit: readonly unknown[];
  readonly invoke: ReadonlyArray<{ readonly id: string; readonly src: unknown }>;
  readonly after: ReadonlyArray<{ readonly eventType: string; readonly delay: string | number }>;
  readonly transitions: ReadonlyMap<string, readonly TransitionLike[]>;
  readonly always?: readonly TransitionLike[];
}

interface TransitionLike {
  readonly eventType: string;
  readonly guard?: unknown;
  readonly target?: readonly NodeLike[];
  readonly reenter: boolean;
  readonly actions: readonly unknown[];
}

/** The machines of the agent, by the name `spp machines export --machine` takes. */
export const AGENT_MACHINES = { port: portMachine, nic: nicMachine, agent: agentMachine } as const satisfies Record<string, AnyStateMachine>;
export type MachineName = keyof typeof AGENT_MACHINES;
export const MACHINE_NAMES = Object.keys(AGENT_MACHINES) as MachineName[];

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const root = machine.root as unknown as NodeLike;
  const states: GraphState[] = [];
  const transitions: GraphTransition[] = [];
  const visit = (node: NodeLike): void => {
    const id = pathOf(node);
    if (node !== root) {
      const parentPath = node.path.slice(0, -1).join('.');
      const initial = node.initial?.target[0];
      states.push({
        id,
        key: node.key,
        ...(parentPath ? { parent: parentPath } : {}),
        type: node.type,
        ...(node.type === 'compound' && initial ? { initial: pathOf(initial) } : {}),
        entry: actionNames(node.entry),
        exit: actionNames(node.exit),
        invoke: node.invoke.map((i) => srcName(i.src)),
      });
    }
    transitions.push(...transitionsOf(node));
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(root);
  const initial = root.initial?.target[0];
  return { id: root.id, initial: initial ? pathOf(initial) : '', states, transitions };
}

export function agentMachineGraphs(): Record<MachineName, MachineGraph> {
  return { port: machineGraph(portMachine), nic: machineGraph(nicMachine), agent: machineGraph(agentMachine) };
}

function pathOf(node: NodeLike): string {
  return node.path.join('.');
}

function transitionsOf(node: NodeLike): GraphTransition[] {
  const source = pathOf(node);
  const invokes = new Map(node.invoke.map((i) => [i.id, srcName(i.src)]));
  const delays = new Map(node.after.map((a) => [a.eventType, a.delay]));
  const out: GraphTransition[] = [];
  for (const [eventType, list] of node.transitions) {
    for (const t of list) {
      const base = describeEvent(eventType, invokes, delays);
      out.push({ source, ...base, ...guardOf(t), targets: (t.target ?? []).map(pathOf), reenter: t.reenter, actions: actionNames(t.actions) });
    }
  }
  for (const t of node.always ?? []) {
    out.push({
      source,
      kind: 'always',
      event: 'always',
      ...guardOf(t),
      targets: (t.target ?? []).map(pathOf),
      reenter: t.reenter,
      actions: actionNames(t.actions),
    });
  }
  return out;
}

function describeEvent(
  eventType: string,
  invokes: ReadonlyMap<string, string>,
  delays: ReadonlyMap<string, string | number>,
): { kind: TransitionKind; event: string; delay?: string | number } {
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor) return { kind: actor[1] === 'done' ? 'done' : 'error', event: invokes.get(actor[2]!) ?? actor[2]! };
  const delay = delays.get(eventType);
  if (delay !== undefined) return { kind: 'after', event: String(delay), delay };
  return { kind: 'event', event: eventType };
}

function guardOf(t: TransitionLike): { guard?: string } {
  const g = t.guard;
  if (g === undefined) return {};
  if (typeof g === 'string') return { guard: g };
  if (typeof g === 'function') return { guard: inlineSource(g as (...args: never[]) => unknown) };
  if (g && typeof g === 'object' && 'type' in g) return { guard: String((g as { type: unknown }).type) };
  return { guard: 'guard' };
}

/** `({ event }) => event.state === 'valid'` reads best as its body: `event.state === 'valid'`. */
function inlineSource(f: (...args: never[]) => unknown): string {
  const text = f.toString().replace(/\s+/g, ' ').trim();
  const arrow = /^(?:async\s*)?(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*=>\s*(.+)$/.exec(text);
  const body = arrow ? arrow[1]! : f.name || 'inline guard';
  return body.length > 80 ? `${body.slice(0, 77)}...` : body;
}

function srcName(src: unknown): string {
  if (typeof src === 'string') return src;
  const id = (src as { id?: unknown })?.id;
  return typeof id === 'string' ? id : 'inline actor';
}

function actionNames(actions: readonly unknown[]): string[] {
  return actions.map((a) => {
    if (typeof a === 'string') return a;
    const type = (a as { type?: unknown })?.type;
    if (type === 'xstate.assign') {
      const assignment = (a as { assignment?: unknown }).assignment;
      const fields = assignment && typeof assignment === 'object' ? Object.keys(assignment) : [];
      return fields.length > 0 ? `assign(${fields.join(', ')})` : 'assign';
    }
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
    return (a as { name?: string })?.name || 'action';
  });
}

/** A label for a transition: `DESIRED [intentUnchanged]`, `done(plug)`, `after backoff`. */
export function transitionLabel(t: GraphTransition): string {
  const head = t.kind === 'done' ? `done(${t.event})` : t.kind === 'error' ? `error(${t.event})` : t.kind === 'after' ? `after ${t.event}` : t.event;
  return t.guard ? `${head} [${t.guard}]` : head;
}
