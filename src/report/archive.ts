/**
 * The files of a debug report, written as one .tar.gz by the system's tar
 * (GNU or BSD tar, on every Linux a compute node runs), with every secret
 * the report's own process knew scrubbed from every file first.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

export interface ReportFile {
  /** Path inside the archive, below its top folder. */
  readonly path: string;
  readonly content: string;
  /** One line for the summary: what the file holds. */
  readonly what: string;
}

export interface ArchiveResult {
  readonly out: string;
  readonly bytes: number;
  /** Paths as `tar -t` lists them. */
  readonly listing: readonly string[];
  /** How many times a secret was found and replaced. */
  readonly scrubbed: number;
}

/** Replaces every occurrence of each secret (4 characters or more) with `[secret removed]`. */
export function scrub(text: string, secrets: readonly string[]): { text: string; count: number } {
  let count = 0;
  let out = text;
  for (const s of secrets) {
    if (s.length < 4) continue;
    const parts = out.split(s);
    count += parts.length - 1;
    out = parts.join('[secret removed]');
    // the JSON-escaped form too (a secret with quotes or backslashes inside a JSON file)
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) {
      const p = out.split(escaped);
      count += p.length - 1;
      out = p.join('[secret removed]');
    }
  }
  return { text: out, count };
}

export async function writeArchive(out: string, top: string, files: readonly ReportFile[], secrets: readonly string[]): Promise<ArchiveResult> {
  const dir = await mkdtemp(join(tmpdir(), 'spp-report-'));
  try {
    let scrubbed = 0;
    for (const f of files) {
      if (f.path.split('/').some((part) => part === '..' || part === '')) throw new Error(`report file path ${JSON.stringify(f.path)} is not a relative path`);
      const clean = scrub(f.content, secrets);
      scrubbed += clean.count;
      const path = join(dir, top, f.path);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, clean.text, { mode: 0o600 });
    }
    const tar = promisify(execFile);
    await mkdir(dirname(out), { recursive: true });
    await tar('tar', ['-czf', out, '-C', dir, top]).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? 'spp report needs the `tar` program on PATH' : `tar failed: ${err.message}`);
    });
    const { stdout } = await tar('tar', ['-tzf', out]);
    const listing = stdout.split('\n').filter((l) => l !== '' && !l.endsWith('/'));
    return { out, bytes: (await stat(out)).size, listing, scrubbed };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The summary printed at the end: every file with its size and what it holds. */
export function renderSummary(top: string, files: readonly ReportFile[], result: ArchiveResult, notes: readonly string[]): string {
  const width = Math.max(...files.map((f) => f.path.length), 4);
  const lines = [`spp report: ${basename(result.out)} (${result.bytes} bytes), ${files.length} files under ${top}/:`];
  for (const f of files) lines.push(`  ${f.path.padEnd(width)}  ${String(Buffer.byteLength(f.content)).padStart(8)} B  ${f.what}`);
  for (const n of notes) lines.push(`note: ${n}`);
  lines.push(
    `secrets: no password or key file is read into the report${result.scrubbed > 0 ? `; ${result.scrubbed} occurrence(s) of a known secret were replaced by [secret removed]` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}
