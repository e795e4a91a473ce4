import type { StateValue } from 'xstate';

/** A machine's state tree, as xstate's StateNode has it (only what leafStateNames reads). */
export interface StateTree {
  readonly key: string;
  readonly states: Readonly<Record<string, StateTree>>;
}

/** Every state a machine can rest in, named as stateName names it (`plugged.steady`), in definition order. */
export function leafStateNames(root: StateTree): string[] {
  const walk = (node: StateTree, prefix: string): string[] => {
    const children = Object.values(node.states);
    return children.length === 0 ? [prefix] : children.flatMap((c) => walk(c, prefix === '' ? c.key : `${prefix}.${c.key}`));
  };
  return walk(root, '');
}

/** `plugged.steady` for nested states, `idle` for flat ones. */
export function stateName(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => (v === undefined ? k : `${k}.${stateName(v as StateValue)}`))
    .join(',');
}
