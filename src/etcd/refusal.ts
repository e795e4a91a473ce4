/**
 * etcd refusals: requests etcd turns down for a reason no retry can heal
 * (the user's role lacks a grant, or its credentials are wrong). They are
 * not connection blips: the agent reports them naming the range and the
 * user, and retries with a long backoff (docs/architecture.md).
 */

export function isRefusal(err: unknown): boolean {
  const name = (err as { name?: unknown } | undefined)?.name;
  const message = String((err as { message?: unknown } | undefined)?.message ?? '');
  return name === 'EtcdPermissionDeniedError' || name === 'EtcdAuthenticationFailedError' || /permission denied|authentication failed/.test(message);
}

/** The etcd user as refusal messages name it. */
export function describeUser(user: string | undefined): string {
  return user ? `etcd user ${JSON.stringify(user)}` : 'the etcd client (no user)';
}
