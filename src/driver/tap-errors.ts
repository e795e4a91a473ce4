/**
 * Typed refusals of `spp tap create|delete`, one per reason the TaaS service
 * driver refuses (PortNotBound, NotSameHost, NoMirrorAvailable) plus ours, so
 * that the CLI gives each its own exit code.
 */

export type TapErrorCode = 'invalid_input' | 'not_bound' | 'not_same_host' | 'no_mirror_free' | 'already_exists' | 'agent_error' | 'timeout';

export class TapError extends Error {
  override readonly name = 'TapError';
  constructor(
    readonly code: TapErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The exit code of each refusal (documented in `spp tap create --help` and docs/taas.md). */
export const TAP_EXIT_CODES: Readonly<Record<Exclude<TapErrorCode, 'invalid_input'>, number>> = {
  not_bound: 3,
  not_same_host: 4,
  no_mirror_free: 5,
  already_exists: 6,
  timeout: 7,
  agent_error: 8,
};
