/**
 * One HTTP request/response over a pool of kept-alive connections
 * (node:http). The spp-ctl client used global fetch, whose per-request cost
 * (undici's request objects, streams, header classes) was about a quarter of
 * the agent's CPU in a burst of plugs; a plain keep-alive agent is a fraction
 * of that. This module knows nothing about spp-ctl: it reports an answer, a
 * timeout, or the connection error as Node gave it.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
}

/** No complete answer within the request's time limit (the connection is dropped). */
export class ExchangeTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'ExchangeTimeout';
  }
}

export interface KeepAliveOptions {
  /**
   * Connections per server. The agent sends at most one request per spp_vf
   * at a time (spp-ctl serialises per vf anyway), so this is about the
   * number of NICs a host can have. Default 16.
   */
  readonly maxSockets?: number;
  /**
   * How long an idle connection is kept. Below the 5 s idle limit of Node's
   * own servers (the emulator), so the client, not the server, normally
   * closes it: a server that closes an idle connection races the next
   * request put on it (see `exchange`). Default 4000.
   */
  readonly idleMs?: number;
}

export interface ExchangeRequest {
  readonly method: string;
  readonly url: URL;
  /** JSON text; sent with Content-Type application/json. */
  readonly json?: string;
  readonly timeoutMs: number;
}

export interface KeepAliveHttp {
  exchange(req: ExchangeRequest): Promise<RawResponse>;
  /** Closes the idle connections; requests still running finish. */
  close(): void;
}

/** Set on an error that ended a request before any byte of its answer arrived on a kept-alive connection. */
interface AttemptFailure {
  readonly error: Error;
  readonly staleReuse: boolean;
}

export function keepAliveHttp(protocol: string, opts: KeepAliveOptions = {}): KeepAliveHttp {
  const mod = protocol === 'https:' ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 16, maxFreeSockets: opts.maxSockets ?? 16, timeout: opts.idleMs ?? 4000 });

  function attempt(req: ExchangeRequest, deadline: number, fresh: boolean): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false;
      let socket: Socket | undefined;
      let readBefore = 0;
      const fail = (f: AttemptFailure | ExchangeTimeout): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(f);
      };
      const headers: http.OutgoingHttpHeaders =
        req.json === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(req.json) };
      // a retry goes on a connection of its own (agent: false), not on another idle one that may be just as stale
      const out = mod.request(req.url, { method: req.method, headers, agent: fresh ? false : agent });
      const timer = setTimeout(
        () => {
          fail(new ExchangeTimeout(req.timeoutMs));
          // the answer may still come: the connection cannot carry another request
          out.destroy();
        },
        Math.max(0, deadline - Date.now()),
      );
      out.on('socket', (s: Socket) => {
        socket = s;
        readBefore = s.bytesRead;
      });
      out.on('error', (error: Error) => {
        // bytesRead counts what arrived on this connection for this request: nothing means spp-ctl never started answering
        const nothingRead = socket === undefined || socket.bytesRead === readBefore;
        fail({ error, staleReuse: out.reusedSocket && nothingRead });
      });
      out.on('response', (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (error: Error) => fail({ error, staleReuse: false }));
        res.on('aborted', () =>
          fail({ error: Object.assign(new Error('connection closed in the middle of the answer'), { code: 'ECONNRESET' }), staleReuse: false }),
        );
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const contentType = res.headers['content-type'];
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ...(contentType ? { contentType } : {}) });
        });
      });
      out.end(req.json);
    });
  }

  return {
    async exchange(req) {
      const deadline = Date.now() + req.timeoutMs;
      try {
        return await attempt(req, deadline, false);
      } catch (err) {
        if (err instanceof ExchangeTimeout) throw err;
        const f = err as AttemptFailure;
        // A kept-alive connection the server closed while it was idle fails the
        // next request put on it before any answer (ECONNRESET, EPIPE, "socket
        // hang up"); Node's agent does not retry. Such a request almost surely
        // never reached spp-ctl's handler, so it is sent once more on a new
        // connection, mutating ones too (in the unlikely other case spp_vf
        // rejects the repeated command and the agent repairs from the vf
        // status, as after any rejection). A failure on a new connection, or
        // after part of an answer, is spp-ctl's own and is reported as it is.
        if (!f.staleReuse) throw f.error;
        try {
          return await attempt(req, deadline, true);
        } catch (again) {
          if (again instanceof ExchangeTimeout) throw again;
          throw (again as AttemptFailure).error;
        }
      }
    },
    close() {
      agent.destroy();
    },
  };
}
