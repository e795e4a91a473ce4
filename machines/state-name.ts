import type { StateValue } from 'xstate';

/** A machine's state tree, as xstate's StateNode has it (only what these functions read). */
export interface StateTree {
  readonly key: string;
  readonly states: Readonly<Record<string, StateTree>>;
  readonly tags: readonly string[];
}

/** Every state a machine can rest in, named as stateName names it (`plugged.steady`), in definition order. */
export function leafStateNames(root: StateTree): string[] {
  return [...leafStateTags(root).keys()];
}

/**
 * Every state a machine can rest in with its tags (its own and its
 * ancestors', as a snapshot's `tags` has them), in definition order: for
 * readers that get a state's name and not its snapshot (a metric's label, a
 * recorded history).
 */
export function leafStateTags(root: StateTree): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const walk = (node: StateTree, prefix: string, inherited: readonly string[]): void => {
    const tags = [...inherited, ...node.tags.filter((t) => !inherited.includes(t))];
    const children = Object.values(node.states);
    if (children.length === 0) out.set(prefix, tags);
    for (const c of children) walk(c, prefix === '' ? c.key : `${prefix}.${c.key}`, tags);
  };
  walk(root, '', []);
  return out;
}

/** `plugged.steady` for nested states, `idle` for flat ones. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => (v === undefined ? k : `${k}.${stateName(v as StateValue)}`))
    .join(',');
}
