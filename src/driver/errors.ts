/**
 * Typed failures of the server-side client, so callers (neutron glue, the
 * CLI, tests) can branch on what went wrong without parsing messages.
 */

export type BindErrorCode =
  | 'unknown_host'
  | 'agent_down'
  | 'unknown_physical_network'
  | 'already_bound'
  | 'no_free_vhost'
  | 'agent_error'
  | 'timeout'
  | 'invalid_input';

export class BindError extends Error {
  override readonly name = 'BindError';
  constructor(
    readonly code: BindErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type UnbindErrorCode = 'invalid_input' | 'timeout';

export class UnbindError extends Error {
  override readonly name = 'UnbindError';
  constructor(
    readonly code: UnbindErrorCode,
    message: string,
  ) {
    super(message);
  }
}
