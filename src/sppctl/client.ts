/**
 * The typed spp-ctl REST client the agent uses. The transport is pluggable:
 * HTTP (node:http, kept-alive connections) for a real or emulated spp-ctl, or in process for the
 * emulator without sockets (replay, fast tests). Every failure is an
 * SppCtlError that carries spp-ctl's own text.
 */

import { isLeft } from 'fp-ts/lib/Either';
import * as t from 'io-ts';
import { type HttpRequest, type MirrorCommand, type SppCommand, toMirrorRequest, toRequest } from './commands';
import { ExchangeTimeout, keepAliveHttp } from './http-exchange';
import { MirrorStatus, type ProcessEntry, Processes, VfStatus } from './wire';

export interface HttpResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
}

export type SppCtlTransport = (req: HttpRequest) => Promise<HttpResponse>;

export type SppCtlErrorKind =
  /** No connection (refused, reset, closed without an answer). */
  | 'unreachable'
  | 'timeout'
  /** spp-ctl answered with an error status. */
  | 'http'
  /** spp-ctl answered 200 with a body that is not what the API promises. */
  | 'invalid';

export class SppCtlError extends Error {
  constructor(
    readonly kind: SppCtlErrorKind,
    readonly request: HttpRequest,
    /** HTTP status; undefined when there was no answer. */
    readonly status: number | undefined,
    /** spp-ctl's text (plain or HTML), or what went wrong on the connection. */
    readonly body: string,
    detail?: string,
  ) {
    super(`${request.method} ${request.path}: ${detail ?? (status === undefined ? body : `${status} ${truncate(body)}`)}`);
    this.name = 'SppCtlError';
  }
}

function truncate(s: string, max = 300): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}...` : one;
}

export interface HttpTransportOptions {
  /** Per request; the real spp_vf can take a second per command. Default 10000. */
  readonly timeoutMs?: number;
  /** Kept-alive connections to spp-ctl (the agent uses one per spp_vf at most). Default 16. */
  readonly maxSockets?: number;
}

/** An HTTP transport that keeps its connections open; `close()` drops the idle ones. */
export type HttpTransport = SppCtlTransport & { close(): void };

export function httpTransport(baseUrl: string, opts: HttpTransportOptions = {}): HttpTransport {
  const base = baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const http = keepAliveHttp(new URL(base).protocol, opts.maxSockets !== undefined ? { maxSockets: opts.maxSockets } : {});
  const transport = async (req: HttpRequest): Promise<HttpResponse> => {
    try {
      return await http.exchange({
        method: req.method,
        url: new URL(base + req.path),
        timeoutMs,
        ...(req.body !== undefined ? { json: JSON.stringify(req.body) } : {}),
      });
    } catch (err) {
      if (err instanceof ExchangeTimeout) throw new SppCtlError('timeout', req, undefined, `no answer from ${base} within ${timeoutMs} ms`);
      const e = err as Error & { code?: string };
      throw new SppCtlError('unreachable', req, undefined, `cannot reach spp-ctl at ${base} (${e.code ?? e.name}: ${e.message})`);
    }
  };
  return Object.assign(transport, { close: () => http.close() });
}

/** The emulator's in-process handler (structural, so the client does not depend on the emulator). */
export interface InProcessHandler {
  handle(req: { method: string; path: string; body?: string | undefined }): Promise<HttpResponse>;
}

export interface InProcessOptions {
  /** Give up after this long (a hung spp_vf never answers). Default: wait forever. */
  readonly timeoutMs?: number;
}

export function inProcessTransport(emulator: InProcessHandler, opts: InProcessOptions = {}): SppCtlTransport {
  return async (req) => {
    const pending = emulator
      .handle({ method: req.method, path: req.path, body: req.body === undefined ? undefined : JSON.stringify(req.body) })
      .catch((err: Error) => {
        throw new SppCtlError('unreachable', req, undefined, err.message);
      });
    if (opts.timeoutMs === undefined) return pending;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SppCtlError('timeout', req, undefined, `no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    });
    try {
      return await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
}

export type ExchangeOutcome = HttpResponse | SppCtlError;

export interface SppCtlClientOptions {
  /** Called after every request with its response or error and how long it took. */
  readonly onExchange?: (req: HttpRequest, outcome: ExchangeOutcome, ms: number) => void;
  readonly now?: () => number;
}

/**
 * Where a decode failure is, e.g. `components[2].rx_port[0].vlan.id: expected
 * number, got "x"`. Of the errors io-ts reports (one per union member), the
 * deepest is the one that names the field.
 */
export function describeDecodeErrors(errors: t.Errors): string {
  const deepest = [...errors].sort((a, b) => b.context.length - a.context.length)[0];
  if (!deepest) return 'invalid value';
  let path = '';
  deepest.context.forEach((c, i) => {
    // The first entry is the root; an entry under a union names the member tried, not a field.
    if (i === 0 || deepest.context[i - 1]!.type instanceof t.UnionType) return;
    path = /^\d+$/.test(c.key) ? `${path}[${c.key}]` : path === '' ? c.key : `${path}.${c.key}`;
  });
  const expected = deepest.context[deepest.context.length - 1]?.type.name ?? 'value';
  return `${path || '(body)'}: expected ${expected}, got ${truncate(JSON.stringify(deepest.value) ?? 'undefined', 80)}`;
}

export class SppCtlClient {
  private readonly now: () => number;

  constructor(
    private readonly transport: SppCtlTransport,
    private readonly opts: SppCtlClientOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** One request; any status other than 200/204 becomes an SppCtlError of kind 'http'. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const started = this.now();
    let res: HttpResponse;
    try {
      res = await this.transport(req);
    } catch (err) {
      const e = err instanceof SppCtlError ? err : new SppCtlError('unreachable', req, undefined, (err as Error).message);
      this.opts.onExchange?.(req, e, this.now() - started);
      throw e;
    }
    this.opts.onExchange?.(req, res, this.now() - started);
    if (res.status !== 200 && res.status !== 204) throw new SppCtlError('http', req, res.status, res.body);
    return res;
  }

  private async getJson<A>(path: string, codec: t.Type<A, unknown, unknown>): Promise<A> {
    const req: HttpRequest = { method: 'GET', path };
    const res = await this.request(req);
    let data: unknown;
    try {
      data = JSON.parse(res.body);
    } catch {
      throw new SppCtlError('invalid', req, res.status, res.body, `${res.status} body is not JSON: ${truncate(res.body, 120)}`);
    }
    // A structural codec (no member transforms: its encode is the identity) decodes a value that
    // passes its `is` to that value itself; `is` builds no error contexts, where decode
    // tries each union member in turn (every running component first fails as an idle core).
    if (codec.encode === t.identity && codec.is(data)) return data;
    const decoded = codec.decode(data);
    if (isLeft(decoded)) {
      throw new SppCtlError('invalid', req, res.status, res.body, `unexpected ${codec.name} from spp-ctl: ${describeDecodeErrors(decoded.left)}`);
    }
    return decoded.right;
  }

  processes(): Promise<ProcessEntry[]> {
    return this.getJson('/v1/processes', Processes);
  }

  /** The vf ids spp-ctl knows. */
  async vfIds(): Promise<number[]> {
    return (await this.processes()).flatMap((p) => (p.type === 'vf' ? [p['client-id']] : []));
  }

  vfStatus(secId: number): Promise<VfStatus> {
    return this.getJson(`/v1/vfs/${secId}`, VfStatus);
  }

  async send(cmd: SppCommand): Promise<void> {
    await this.request(toRequest(cmd));
  }

  mirrorStatus(secId: number): Promise<MirrorStatus> {
    return this.getJson(`/v1/mirrors/${secId}`, MirrorStatus);
  }

  async sendMirror(cmd: MirrorCommand): Promise<void> {
    await this.request(toMirrorRequest(cmd));
  }
}
