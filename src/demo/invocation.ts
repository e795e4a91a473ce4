/**
 * How to type `spp` in the terminal the demo runs in, for the commands it
 * suggests: a checkout has no `spp` on PATH, and `npx spp` outside the
 * checkout would fetch an unrelated package from the registry.
 */
import { accessSync, constants, realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path';

export interface Invocation {
  /** The running script (process.argv[1]): bin/spp.js of a checkout or an install. */
  readonly script: string;
  readonly cwd: string;
  /** The real path of the `spp` found on PATH, if any. */
  readonly sppOnPath?: string;
}

/** `spp` when PATH's spp is this one; `npx spp` inside this package's directory; else `node /path/to/bin/spp.js`. */
export function sppInvocation(i: Invocation): string {
  if (i.sppOnPath !== undefined && i.sppOnPath === i.script) return 'spp';
  const packageRoot = dirname(dirname(i.script));
  const rel = relative(packageRoot, i.cwd);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return 'npx spp';
  return `node ${i.script}`;
}

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function onPath(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return realpath(file);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** This process's invocation (argv[1], cwd, PATH). */
export function currentInvocation(): Invocation {
  const script = realpath(resolve(process.argv[1] ?? 'spp')) ?? resolve(process.argv[1] ?? 'spp');
  const sppOnPath = onPath('spp', process.env.PATH);
  return { script, cwd: process.cwd(), ...(sppOnPath ? { sppOnPath } : {}) };
}
