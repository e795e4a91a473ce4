/** The one way tests wait: a plain pause, or polling a condition with a deadline that names what it waited for. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns true (or a value), failing with `what` after `timeoutMs`. */
export async function until<T>(
  check: () => T | Promise<T>,
  what: string | (() => string),
  timeoutMs = 10_000,
  everyMs = 20,
): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== false && v !== undefined && v !== null) return v as Exclude<T, false | undefined | null>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await sleep(everyMs);
  }
}
