/**
 * The repository stands alone: a clone without the steering repository beside
 * it builds and passes its tests. Nothing in the project reads or points at a
 * path outside it (the old reads of the steering repository's fixtures are copies in
 * `test/fixtures/` now).
 */

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import test from 'ava';
import { FIXTURES } from './helpers/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const SCANNED = ['src', 'machines', 'scripts', 'test', 'docs', 'bin', '.ci', 'README.md', 'package.json'];

// built from parts so that this file does not match itself
const OUTSIDE = [
  new RegExp(['\\.\\.', 'shared'].join('/')),
  /'shared',\s*'(fixtures|spec)'/,
  new RegExp(['\\.\\.', 'main', ''].join('/')),
  new RegExp(['', 'work', ''].join('/')),
];

function files(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return /\.(ts|js|md|json|sh|html|css)$|\/\.ci\/run$/.test(path) ? [path] : [];
  return readdirSync(path).flatMap((name) => (name === 'node_modules' ? [] : files(join(path, name))));
}

/** Lines of `text` that reach outside the repository: a known outside path, or a relative markdown link escaping `root`. */
function outsideReferences(file: string, text: string, root: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    const where = `${relative(root, file)}:${i + 1}`;
    if (OUTSIDE.some((re) => re.test(line))) found.push(`${where}: ${line.trim()}`);
    if (file.endsWith('.md'))
      for (const m of line.matchAll(/\]\((\.\.\/[^)#\s]*)/g))
        if (relative(root, resolve(dirname(file), m[1]!)).startsWith('..')) found.push(`${where}: link ${m[1]} leaves the repository`);
  });
  return found;
}

test('nothing in the project reads or names a path outside the repository', (t) => {
  const scanned = SCANNED.flatMap((p) => files(join(ROOT, p))).filter((f) => basename(f) !== 'standalone.test.ts');
  t.true(scanned.length > 100, `scanned ${scanned.length} files`);
  t.deepEqual(
    scanned.flatMap((f) => outsideReferences(f, readFileSync(f, 'utf8'), ROOT)),
    [],
  );
});

test('the scan finds an outside read, an outside link, and passes a link inside', (t) => {
  const doc = join(ROOT, 'docs', 'x.md');
  // the sample read built from parts, as OUTSIDE is, so that no scan of the tree takes this file for one
  const outsideRead = `readFileSync(join(root, ${["'..'", "'shared'", "'fixtures'"].join(', ')}, name))`;
  t.is(outsideReferences(join(ROOT, 'test', 'x.ts'), outsideRead, ROOT).length, 1);
  t.is(outsideReferences(doc, `see [spec](../../elsewhere/spec.md)`, ROOT).length, 1);
  t.deepEqual(outsideReferences(doc, 'see [readme](../README.md)', ROOT), []);
});

test('the fixtures the tests read are in test/fixtures, with a README saying where they came from', (t) => {
  for (const name of ['seed-fresh.etcdctl.txt', 'seed-one-plugged.etcdctl.txt'])
    t.regex(readFileSync(join(FIXTURES, name), 'utf8'), /^\/spp\/openstack\/configuration\/spp4$/m);
  t.regex(readFileSync(join(FIXTURES, 'README.md'), 'utf8'), /Copied unchanged from/);
});
