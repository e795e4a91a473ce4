/**
 * The layering rule of docs/architecture.md, checked over the TypeScript
 * imports: the pure core imports only itself and the data types below it,
 * no module imports a higher layer, the few narrower rules of NARROW hold,
 * and no import cycle exists.
 *
 *   node dist/scripts/check-layers.js [ROOT]   exit 0 when the tree keeps the rule
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Layers from the bottom up. A module is in the first layer one of whose
 * paths it starts with (a path ending in .ts is one file). A module may import
 * its own layer and lower ones.
 */
export const LAYERS: ReadonlyArray<{ readonly name: string; readonly paths: readonly string[] }> = [
  { name: 'protocol', paths: ['src/protocol/', 'src/sppctl/commands.ts', 'src/sppctl/wire.ts'] },
  { name: 'core', paths: ['machines/', 'src/plan/'] },
  {
    name: 'adapters',
    paths: ['src/log.ts', 'src/version.ts', 'src/listen.ts', 'src/http-guard.ts', 'src/suggest.ts', 'src/sppctl/', 'src/etcd/', 'src/localetcd/'],
  },
  { name: 'services', paths: ['src/setup/', 'src/driver/', 'src/deploy/'] },
  { name: 'reconciler', paths: ['src/agent/'] },
  { name: 'ops', paths: ['src/ops/', 'src/explain/'] },
  { name: 'daemon', paths: ['src/daemon/'] },
  { name: 'tools', paths: ['src/replay/', 'src/viz/', 'src/report/'] },
  { name: 'demo', paths: ['src/demo/'] },
  { name: 'cli', paths: ['src/cli/'] },
];

/**
 * Imports narrower than the layers: a module under `from` may import, of the
 * modules under `into`, only `only`.
 */
export const NARROW: ReadonlyArray<{ readonly from: string; readonly into: string; readonly only: readonly string[]; readonly why: string }> = [
  {
    from: 'src/ops/',
    into: 'src/agent/',
    only: ['src/agent/io.ts', 'src/agent/observer.ts', 'src/agent/view.ts'],
    why: 'the ops endpoint sees the reconciler only through the I/O it decorates, the observer it implements and the read model it serves',
  },
];

/** What the pure core may import besides itself and the protocol layer. */
export const CORE_PACKAGES: readonly string[] = ['xstate'];

export interface Violation {
  readonly kind: 'unlayered' | 'core-import' | 'upward' | 'narrow' | 'cycle';
  readonly message: string;
}

/** Module path (relative to the root, with .ts) -> the specifiers it imports. */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

export function layerOf(file: string): number | undefined {
  const i = LAYERS.findIndex((l) => l.paths.some((p) => (p.endsWith('/') ? file.startsWith(p) : file === p)));
  return i < 0 ? undefined : i;
}

/** Resolves a relative specifier of `from` to a module of the graph, or undefined for a package. */
function resolveSpecifier(graph: ImportGraph, from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = join(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) if (graph.has(candidate)) return candidate;
  return undefined;
}

export function checkLayers(graph: ImportGraph): Violation[] {
  const out: Violation[] = [];
  const core = LAYERS.findIndex((l) => l.name === 'core');
  const edges = new Map<string, string[]>();
  for (const [file, specs] of graph) {
    const own = layerOf(file);
    if (own === undefined)
      out.push({ kind: 'unlayered', message: `${file} is in no layer: add its folder to LAYERS in scripts/check-layers.ts and docs/architecture.md` });
    const targets: string[] = [];
    for (const spec of specs) {
      const target = resolveSpecifier(graph, file, spec);
      if (target !== undefined) targets.push(target);
      if (own === core) {
        const ok = target !== undefined ? (layerOf(target) ?? Infinity) <= core : CORE_PACKAGES.some((p) => spec === p || spec.startsWith(`${p}/`));
        if (!ok)
          out.push({
            kind: 'core-import',
            message: `${file} imports ${spec}: machines/ and src/plan/ import only themselves, ${LAYERS[0]!.paths.join(', ')} and ${CORE_PACKAGES.join(', ')}`,
          });
        continue;
      }
      if (target === undefined || own === undefined) continue;
      const theirs = layerOf(target);
      if (theirs !== undefined && theirs > own) {
        out.push({ kind: 'upward', message: `${file} (${LAYERS[own]!.name}) imports ${target} (${LAYERS[theirs]!.name}, a higher layer)` });
      }
      for (const rule of NARROW) {
        if (file.startsWith(rule.from) && target.startsWith(rule.into) && !rule.only.includes(target))
          out.push({ kind: 'narrow', message: `${file} imports ${target}: ${rule.from} imports of ${rule.into} only ${rule.only.join(', ')} (${rule.why})` });
      }
    }
    edges.set(file, targets);
  }
  for (const cycle of cyclesOf(edges)) out.push({ kind: 'cycle', message: `import cycle: ${[...cycle, cycle[0]].join(' -> ')}` });
  return out;
}

/** The strongly connected components with more than one module (or a self-import), by Tarjan's algorithm. */
function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) out.push(component.sort());
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return out;
}

/** The imports of every .ts module under the product folders of `root` (tests and scripts are not layered). */
export function readGraph(root: string, folders: readonly string[] = ['machines', 'src']): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const path = join(dir, name);
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        const info = ts.preProcessFile(readFileSync(join(root, path), 'utf8'), true, true);
        graph.set(
          path,
          info.importedFiles.map((f) => f.fileName),
        );
      }
    }
  };
  for (const folder of folders) walk(folder);
  return graph;
}

if (require.main === module) {
  const root = resolve(process.argv[2] ?? join(__dirname, '..', '..'));
  const violations = checkLayers(readGraph(root));
  for (const v of violations) process.stderr.write(`${v.kind}: ${v.message}\n`);
  process.stdout.write(`check-layers: ${violations.length} violation(s) in ${relative(process.cwd(), root) || '.'}\n`);
  process.exitCode = violations.length === 0 ? 0 : 1;
}
