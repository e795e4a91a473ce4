/**
 * How actors tell the machines whether a failure can heal by itself.
 * Machines only read `permanent`; the actors (I/O adapters) decide it.
 */
export interface ClassifiedError {
  readonly message: string;
  /** True when retrying cannot help (bad input, spp_vf rejecting a repaired plan). */
  readonly permanent: boolean;
  /** True when the spp_vf itself must be rebuilt first: the port waits for its NIC, not for a backoff. */
  readonly waitForNic: boolean;
}

export function classify(err: unknown): ClassifiedError {
  const flag = (name: string): boolean => Boolean(err && typeof err === 'object' && name in err && (err as Record<string, unknown>)[name]);
  const message = err && typeof err === 'object' && 'message' in err ? String((err as { message?: unknown }).message) : String(err);
  return { message, permanent: flag('permanent'), waitForNic: flag('waitForNic') };
}

/** An error that retrying cannot fix. */
export class PermanentError extends Error {
  readonly permanent = true;
}

/**
 * A command failed and the re-read vf no longer has the NIC's layout (it
 * restarted, or spp-ctl did): a problem of the NIC, which is being rebuilt,
 * never of the port.
 */
export class NicRebuildError extends Error {
  readonly waitForNic = true;
}
