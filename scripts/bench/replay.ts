/**
 * The replay benchmark: `replay()` over a generated snapshot (or a given
 * one), in a child process (this file, run directly) so that its peak
 * memory is its own and not the bench's.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseKey } from '../../src/protocol/keys';
import { generateSnapshot, readInput, replay } from '../../src/replay';
import { childFigure } from './child';

export type ReplayBench =
  | { readonly failed: string }
  | {
      readonly keys: number;
      readonly ms: number;
      readonly keysPerSec: number;
      readonly peakRssKb: number;
      /** Ports (bind_port keys) and NICs (configuration entries) of the snapshot: the machines the replay runs. */
      readonly ports: number;
      readonly nics: number;
    };

/** Protocol keys, ports and NICs in an `etcdctl get --prefix /spp` text snapshot (key lines alternate with value lines). */
export function countSnapshotKeys(text: string): { keys: number; ports: number; nics: number } {
  const lines = text.split('\n');
  const out = { keys: 0, ports: 0, nics: 0 };
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const key = lines[i]!;
    if (!key.startsWith('/')) continue;
    out.keys++;
    const kind = parseKey(key)?.kind;
    if (kind === 'bind_port') out.ports++;
    else if (kind === 'configuration') {
      const nics = (() => {
        try {
          return JSON.parse(lines[i + 1]!) as unknown;
        } catch {
          return undefined;
        }
      })();
      if (Array.isArray(nics)) out.nics += nics.length;
    }
  }
  return out;
}

/**
 * Times `replay()` over a snapshot of `keys` keys from gen-snapshot (or the
 * given snapshot file): keys/s and the replay process's peak RSS.
 */
export async function benchReplay(opts: { keys?: number; snapshot?: string; timeoutMs?: number } = {}): Promise<ReplayBench> {
  let dir: string | undefined;
  let file = opts.snapshot;
  try {
    if (file === undefined) {
      dir = mkdtempSync(join(tmpdir(), 'spp-bench-replay-'));
      file = join(dir, 'snapshot.txt');
      writeFileSync(file, generateSnapshot({ keys: opts.keys ?? 100_000 }));
    }
    const r = await childFigure<{ keys: number; ports: number; nics: number; ms: number; peakRssKb: number }>([__filename, file], opts.timeoutMs ?? 180_000);
    return 'failed' in r ? r : { ...r, keysPerSec: r.keys / (r.ms / 1000) };
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Child side: read + replay one snapshot, print {keys, ports, nics, ms, peakRssKb}. */
async function child(file: string): Promise<void> {
  const counts = countSnapshotKeys(readFileSync(file, 'utf8'));
  const t0 = performance.now();
  await replay([await readInput(file)], {});
  const ms = performance.now() - t0;
  process.stdout.write(`${JSON.stringify({ ...counts, ms, peakRssKb: process.resourceUsage().maxRSS })}\n`);
}

if (require.main === module) {
  child(process.argv[2]!).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
