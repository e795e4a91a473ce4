/**
 * Writes a generated `etcdctl get --prefix /spp` text snapshot (see
 * src/replay/generate.ts) for replay benchmarks:
 *   node dist/scripts/gen-snapshot.js [--keys N] [--seed S] [--out FILE]
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateKeys } from '../src/replay/generate';

function main(argv: string[]): number {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { keys: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`gen-snapshot: ${(err as Error).message}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write('usage: node dist/scripts/gen-snapshot.js [--keys N (default 100000)] [--seed S (default 1)] [--out FILE (default stdout)]\n');
    return 0;
  }
  const number = (name: string, v: string | undefined, fallback: number): number => {
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
    return Number(v);
  };
  let keys: number;
  let seed: number;
  try {
    keys = number('keys', values.keys, 100_000);
    seed = number('seed', values.seed, 1);
  } catch (err) {
    process.stderr.write(`gen-snapshot: ${(err as Error).message}\n`);
    return 2;
  }
  const kvs = generateKeys({ keys, seed });
  const text = kvs.map(([k, v]) => `${k}\n${v}\n`).join('');
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  process.stderr.write(`gen-snapshot: ${kvs.length} keys (seed ${seed})${values.out ? ` -> ${values.out}` : ''}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
