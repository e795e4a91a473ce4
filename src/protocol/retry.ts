/**
 * The one retry policy: how long to wait before attempt `n` again. The
 * machines (port and NIC backoff) and the adapters (list-watch, host lock,
 * liveness key) all wait this way, so it lives below both layers.
 */

/** Capped exponential backoff: base, 2*base, 4*base ... max. Deterministic, so replays repeat. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
}
