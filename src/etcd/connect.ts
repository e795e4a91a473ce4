/** Builds an etcd3 client from the options every command and the agent share. */
import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions } from 'etcd3';
import { faultHandling } from './fault-handling';
import type { EtcdHealth } from './health';
// loaded for its effect: every client of ours gets etcd3's watch stream repaired
import './watch-create-fix';

export interface EtcdConnectOptions {
  /** host:port or URLs; comma-separated lists are accepted. */
  readonly endpoints: readonly string[];
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly username?: string;
  readonly password?: string;
  /** Per-call deadline, so a dead cluster fails a call instead of hanging it. */
  readonly callTimeoutMs?: number;
}

export const DEFAULT_ETCD_ENDPOINT = '127.0.0.1:2379';

export function splitEndpoints(value: string | undefined): string[] {
  return (value ?? DEFAULT_ETCD_ENDPOINT)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function etcdUrls(opts: EtcdConnectOptions): string[] {
  const tls = opts.caFile !== undefined;
  return opts.endpoints.map((e) => (/^[a-z]+:\/\//.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`));
}

/** `health`, when given, hears the outcome of every unary call (src/etcd/health.ts). */
export function connectEtcd(opts: EtcdConnectOptions, health?: EtcdHealth): Etcd3 {
  const options: IOptions = {
    hosts: etcdUrls(opts),
    ...(opts.caFile
      ? {
          credentials: {
            rootCertificate: readFileSync(opts.caFile),
            ...(opts.keyFile ? { privateKey: readFileSync(opts.keyFile) } : {}),
            ...(opts.certFile ? { certChain: readFileSync(opts.certFile) } : {}),
          },
        }
      : {}),
    ...(opts.username ? { auth: { username: opts.username, password: opts.password ?? '' } } : {}),
    // gRPC refuses answers over 4 MiB by default: one big value (or a big
    // listing) would break the watch for good and leave the agent blind.
    // etcd's own request limit bounds what can be stored; the agent bounds
    // each value itself (src/protocol/limits.ts).
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
    // etcd3's default circuit breaker wedges the client for good after an
    // outage when auth is on (issue 26): src/etcd/fault-handling.ts says why.
    faultHandling: faultHandling(opts.endpoints.length, health),
    // Watches and lease keep-alives are long-lived streams: a deadline would cut them.
    ...(opts.callTimeoutMs ? { defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + opts.callTimeoutMs! }) } : {}),
  };
  return new Etcd3(options);
}
