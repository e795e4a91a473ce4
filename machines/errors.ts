/**
 * How actors tell the machines whether a failure can heal by itself.
 * Machines only read `permanent`; the actors (I/O adapters) decide it.
 */
export interface ClassifiedError {
  readonly message: string;
  /** True when retrying cannot help (bad input, spp_vf rejecting a repaired plan). */
  readonly permanent: boolean;
}

export function classify(err: unknown): ClassifiedError {
  if (err && typeof err === 'object' && 'permanent' in err) {
    return { message: String((err as { message?: unknown }).message), permanent: Boolean((err as { permanent: unknown }).permanent) };
  }
  return { message: err instanceof Error ? err.message : String(err), permanent: false };
}

/** An error that retrying cannot fix. */
export class PermanentError extends Error {
  readonly permanent = true;
}

/** Capped exponential backoff: base, 2*base, 4*base ... max. Deterministic, so replays repeat. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
}
