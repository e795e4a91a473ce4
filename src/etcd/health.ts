/**
 * What the agent's etcd client last heard from etcd: when a call was last
 * answered (a result, or an error etcd itself sent, such as a refusal), and
 * the cause of the current trouble in one sentence naming the endpoint and
 * the underlying error (TLS, refused, auth, ...). Fed by the client's
 * fault-handling policies (src/etcd/fault-handling.ts); read by the
 * watchdog, the cause log and /readyz.
 */
import { ClientClosedError, ClientRuntimeError, EtcdAuthenticationFailedError, EtcdPermissionDeniedError, GRPCGenericError } from 'etcd3';

export type EtcdCauseKind = 'tls' | 'refused' | 'unreachable' | 'timeout' | 'auth' | 'permission' | 'error';

export interface EtcdCause {
  readonly kind: EtcdCauseKind;
  /** host:port, or the endpoint list when the failing one is not known. */
  readonly endpoint: string;
  /** The underlying error's message, as gRPC or etcd gave it. */
  readonly message: string;
}

/** The cause as operators read it in logs, /readyz and the page. */
export function causeText(c: EtcdCause): string {
  const what: Record<EtcdCauseKind, string> = {
    tls: 'TLS handshake failed',
    refused: 'connection refused',
    unreachable: 'unreachable',
    timeout: 'no answer within the call deadline',
    auth: 'authentication failed (etcd user or password)',
    permission: 'permission denied',
    error: 'error',
  };
  return `etcd ${c.endpoint}: ${what[c.kind]}: ${c.message}`;
}

/** An error that etcd itself sent: the connection works, whatever the answer said. */
export function etcdAnswered(err: unknown): boolean {
  return !(err instanceof GRPCGenericError || err instanceof ClientRuntimeError || err instanceof ClientClosedError);
}

export function classify(err: Error, endpoint: string): EtcdCause {
  const m = err.message;
  const kind: EtcdCauseKind =
    err instanceof EtcdAuthenticationFailedError
      ? 'auth'
      : err instanceof EtcdPermissionDeniedError
        ? 'permission'
        : /certificate|SSL|TLS|handshake|self[- ]signed|unable to (get|verify)|wrong version number/i.test(m)
          ? 'tls'
          : /ECONNREFUSED/.test(m)
            ? 'refused'
            : /DEADLINE_EXCEEDED|Deadline exceeded/i.test(m)
              ? 'timeout'
              : err instanceof GRPCGenericError
                ? 'unreachable'
                : 'error';
  // gRPC repeats the address it dialled: name that one when we did not know it
  const dialled = /(\d{1,3}(?:\.\d{1,3}){3}:\d+|\[[0-9a-f:]+\]:\d+)/i.exec(m)?.[1];
  const message = m
    .replace(/\s+/g, ' ')
    .replace(/\s*Resolution note:\s*$/, '')
    .trim();
  return { kind, endpoint: dialled && endpoint.includes(',') ? dialled : endpoint, message };
}

export class EtcdHealth {
  /** Last time etcd answered a call (also with an error of its own): the client is not stuck. */
  lastAnswerAt = Date.now();
  /** Last time a call succeeded. */
  lastOkAt = Date.now();
  private current: EtcdCause | undefined;
  private readonly listeners = new Set<(cause: EtcdCause | undefined) => void>();

  constructor(private readonly endpoints: readonly string[]) {}

  /** The trouble of the last call that failed, until one succeeds. */
  get cause(): EtcdCause | undefined {
    return this.current;
  }

  /** Called with the new cause when it appears or changes kind or endpoint, and with undefined when calls succeed again. */
  onChange(listener: (cause: EtcdCause | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  succeeded(): void {
    this.lastAnswerAt = this.lastOkAt = Date.now();
    if (this.current === undefined) return;
    this.current = undefined;
    for (const l of this.listeners) l(undefined);
  }

  failed(err: unknown, endpoint?: string): void {
    if (!(err instanceof Error)) return;
    if (etcdAnswered(err)) this.lastAnswerAt = Date.now();
    const cause = classify(err, endpoint ?? this.endpoints.join(','));
    const before = this.current;
    if (before?.endpoint === cause.endpoint) {
      // while etcd is down, gRPC alternates between "refused" and a vaguer "unreachable" (its reconnect backoff): keep the precise one
      if (before.kind === 'refused' && cause.kind === 'unreachable') return;
      this.current = cause;
      if (before.kind === cause.kind) return;
    } else this.current = cause;
    for (const l of this.listeners) l(cause);
  }
}
