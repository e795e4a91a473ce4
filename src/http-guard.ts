/**
 * What every spp HTTP listener (the agent's page and ops endpoint, `spp
 * viz`, `spp sim`) does before its own handler runs: it answers only the
 * host names it was bound for, so a web page that rebinds its own DNS name
 * to 127.0.0.1 cannot read (or, on the emulator, drive) it; and every answer
 * carries headers that keep a browser from framing, sniffing or leaking it.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';

export interface HostGuardOptions {
  /** Names the operator adds (e.g. the node's DNS name when bound to 0.0.0.0), any port. */
  readonly allowHosts?: readonly string[];
  /** Refuse POST/PUT/PATCH/DELETE whose Origin is not an allowed host (the emulator: a browser must not drive it). */
  readonly refuseCrossOriginWrites?: boolean;
}

/** The page loads only its own script, style and API; nothing may frame it. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const WILDCARDS = new Set(['', '0.0.0.0', '::', '0:0:0:0:0:0:0:0']);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Why `name` cannot be an --allow-host value; undefined when it can. */
export function allowHostProblem(name: string): string | undefined {
  return /^[A-Za-z0-9._:[\]-]+$/.test(name) ? undefined : `expected a host name or IP address, got ${JSON.stringify(name)}`;
}

/** A comma-separated list of names (env and ini form of --allow-host), each checked. */
export function parseAllowHosts(text: string, what: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  for (const n of names) {
    const problem = allowHostProblem(n);
    if (problem) throw new Error(`${what}: ${problem}`);
  }
  return names;
}

/** The host part of a Host header or URL authority, lower case, without brackets or port; undefined when malformed. */
export function hostnameOf(authority: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9._-]+))(?::[0-9]*)?$/.exec(authority.trim());
  const name = m?.[1] ?? m?.[2];
  return name?.toLowerCase().replace(/\.$/, '');
}

/** The names a listener bound to `bound` (as given and as resolved) answers to. */
export function allowedHostNames(bound: readonly string[], extra: readonly string[] = []): Set<string> {
  const out = new Set<string>(LOOPBACK_NAMES);
  for (const raw of [...bound, ...extra]) {
    const name = hostnameOf(raw.includes(':') && !raw.startsWith('[') ? `[${raw}]` : raw) ?? raw.toLowerCase();
    if (WILDCARDS.has(name)) {
      // bound to every interface: each of the node's addresses is its own
      for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) out.add(a.address.toLowerCase());
    } else out.add(name);
  }
  return out;
}

/** Why a request must be refused (status and text), or undefined to serve it. */
export function refusal(req: IncomingMessage, allowed: ReadonlySet<string>, options: HostGuardOptions): { status: number; text: string } | undefined {
  const header = req.headers.host;
  const name = header === undefined ? undefined : hostnameOf(header);
  if (name === undefined || !allowed.has(name)) {
    return {
      status: 421,
      text: `421 misdirected request: this server does not answer to host ${JSON.stringify(header ?? '')}; an operator can add a name with --allow-host`,
    };
  }
  if (options.refuseCrossOriginWrites && WRITES.has(req.method ?? '')) {
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let from: string | undefined;
      try {
        from = hostnameOf(new URL(origin).host);
      } catch {
        from = undefined;
      }
      if (from === undefined || !allowed.has(from))
        return { status: 403, text: `403 forbidden: ${req.method} from origin ${JSON.stringify(origin)} is refused` };
    }
  }
  return undefined;
}

/**
 * An http.Server whose handler sees only requests for an allowed host name,
 * with the security headers already set (its own headers may add to them).
 * The allowed names are those of the address it listens on, known at the
 * first request.
 */
export function createGuardedServer(handler: RequestListener, options: HostGuardOptions & { readonly boundAs?: string } = {}): Server {
  let allowed: Set<string> | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowed) {
      const address = server.address() as AddressInfo | null;
      allowed = allowedHostNames([...(options.boundAs !== undefined ? [options.boundAs] : []), ...(address ? [address.address] : [])], options.allowHosts);
    }
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const refused = refusal(req, allowed, options);
    if (refused) {
      res.writeHead(refused.status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`${refused.text}\n`);
      return;
    }
    handler(req, res);
  });
  return server;
}
