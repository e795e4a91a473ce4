/**
 * spp-ctl's REST layer for spp_vf (spec sections 2 and 3) and spp_mirror
 * (upstream-final section 2: the same common handler without the classifier
 * and the vlan key) as a request
 * handler without sockets: bottle's routing and error texts, spp-ctl's body
 * checks in their order, the text command it builds and how it maps spp_vf's
 * reply to an HTTP answer.
 */

import { behaviourOf, type SppRelease } from '../releases';
import { type PyValue, pyInt, pyIsStr, pyJsonDumps, pyJsonLoads, pyPercentD, pyRepr, pyStr, pyTruthy } from './pyjson';
import { componentTypes, type ProcessKind, SUCCESS_REPLY } from './textproto';

export interface RestRequest {
  readonly method: string;
  /** Raw (percent-encoded) path; a query string is ignored. */
  readonly path: string;
  readonly body?: string | undefined;
}

export interface RestResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
}

/** What spp-ctl's socket to one spp_vf gives back for a command. */
export type ExchangeResult = { readonly kind: 'reply'; readonly raw: string } | { readonly kind: 'lost' };

/** The processes spp-ctl knows and the command channel to each vf. */
export interface SppCtlBackend {
  /** `GET /v1/processes` entries, in connection order. */
  processes(): readonly Record<string, unknown>[];
  /** The kind of the connected process with this id (vfs and mirrors share one table), if any. */
  kindOf(secId: number): ProcessKind | undefined;
  exchange(secId: number, command: string): Promise<ExchangeResult>;
  /** spp-ctl forgets the vf: it exited, or from 18.08.3 on it failed a status probe. */
  forget(secId: number, exited?: boolean): void;
}

export interface RestOptions {
  /** Intended behaviour: 400 `invalid key(..)` instead of the 500 of the KeyInvalid bug. */
  readonly lenient?: boolean;
  /** spp-ctl reads a reply with one recv(4096): a reply that fills it gives a 500. Default: !lenient, and the release has the bug. */
  readonly statusLimit?: boolean;
  /** The SPP release modelled (default 18.08). */
  readonly release?: SppRelease;
}

/** The port types spp-ctl's port check accepts. */
const PORT_TYPES: ReadonlySet<string> = new Set(['phy', 'vhost', 'ring', 'pcap', 'nullpmd']);

/** spp-ctl's MSG_SIZE. */
export const RECV_SIZE = 4096;

const text = (status: number, body: string): RestResponse => ({ status, contentType: 'text/plain', body });
const json = (data: unknown): RestResponse => ({ status: 200, contentType: 'application/json', body: pyJsonDumps(data) });
const NO_CONTENT: RestResponse = { status: 204, body: '' };
const INTERNAL = (): RestResponse => text(500, 'Internal Server Error');
const notFound = (rest: string): RestResponse => text(404, `Not found: ${pyRepr({ k: 'str', v: rest })}`);
const METHOD_NOT_ALLOWED = (): RestResponse => text(405, 'Method not allowed.');

/** A Python exception inside a handler: bottle answers 500. */
class PyError extends Error {}
/** spp-ctl's KeyRequired / KeyInvalid. */
class KeyRequired extends Error {
  constructor(readonly key: string) {
    super(`key(${key}) required.`);
  }
}
/** bottle's HTTPError(400) with a text. */
class BadRequest extends Error {}
class KeyInvalid extends Error {
  constructor(
    readonly key: string,
    readonly value: PyValue,
  ) {
    super(`invalid key(${key}): ${pyStr(value)}.`);
  }
}

type Route = { re: RegExp; method: string; run: (m: RegExpExecArray, req: RestRequest) => Promise<RestResponse> };

export function createRestHandler(backend: SppCtlBackend, options: RestOptions = {}): (req: RestRequest) => Promise<RestResponse> {
  const lenient = options.lenient ?? false;
  const release = behaviourOf(options.release);
  const statusLimit = options.statusLimit ?? (!lenient && release.statusLimit);
  /** What spp-ctl's reading of a reply makes of it (one recv of RECV_SIZE bytes). */
  const fits = (raw: string): boolean => !statusLimit || Buffer.byteLength(raw, 'utf8') < RECV_SIZE;

  const secId = (m: RegExpExecArray): { id: bigint; n: number } => {
    const id = BigInt(m[1]!);
    return { id, n: Number(id) };
  };
  const known = (id: { id: bigint; n: number }, kind: ProcessKind): RestResponse | undefined =>
    Number.isSafeInteger(id.n) && backend.kindOf(id.n) === kind ? undefined : text(404, `sec_id ${id.id} not found.`);

  /** Sends a command; the spp_vf reply's results[0] decides 204 or 400. */
  const command = async (n: number, cmd: string, onSuccess?: (reply: Record<string, unknown>) => RestResponse): Promise<RestResponse> => {
    const res = await backend.exchange(n, cmd);
    if (res.kind === 'lost') return INTERNAL();
    // the common answer, short of the status limit: what parsing it would conclude
    if (onSuccess === undefined && res.raw === SUCCESS_REPLY) return NO_CONTENT;
    if (!fits(res.raw)) return INTERNAL();
    let reply: Record<string, unknown>;
    try {
      reply = JSON.parse(res.raw) as Record<string, unknown>;
      const first = (reply.results as Record<string, unknown>[])[0]!;
      if (first.result === 'error') return text(400, `command error: ${String((first.error_details as Record<string, unknown>).message)}`);
      return onSuccess ? onSuccess(reply) : NO_CONTENT;
    } catch {
      return INTERNAL();
    }
  };

  const body = (req: RestRequest): Map<string, PyValue> => {
    let parsed: PyValue;
    try {
      parsed = pyJsonLoads(req.body ?? '');
    } catch {
      // 19.11 (spp 518d6bf) answers a body that is not JSON with 400
      if (release.jsonError400) throw new BadRequest('Not in json format.');
      throw new PyError('bad JSON');
    }
    if (parsed.k !== 'dict') throw new PyError('body is not an object');
    return parsed.v;
  };
  const required = (b: Map<string, PyValue>, keys: string[]): void => {
    for (const k of keys) if (!b.has(k)) throw new KeyRequired(k);
  };
  const oneOf = (b: Map<string, PyValue>, key: string, allowed: string[]): string => {
    const v = b.get(key)!;
    if (!pyIsStr(v, ...allowed)) throw new KeyInvalid(key, v);
    return (v as { v: string }).v;
  };
  const checkPort = (b: Map<string, PyValue>): string => {
    const v = b.get('port')!;
    const parts = v.k === 'str' ? v.v.split(':') : [];
    const ok = parts.length === 2 && PORT_TYPES.has(parts[0]!) && pyInt({ k: 'str', v: parts[1]! }) !== undefined;
    if (!ok) throw new KeyInvalid('port', v);
    return (v as { v: string }).v;
  };

  const componentStart = async (n: number, req: RestRequest, kind: ProcessKind): Promise<RestResponse> => {
    const b = body(req);
    required(b, ['name', 'core', 'type']);
    const name = b.get('name')!;
    if (name.k !== 'str') throw new KeyInvalid('name', name);
    const core = b.get('core')!;
    if (core.k !== 'int' && core.k !== 'bool') throw new KeyInvalid('core', core);
    const type = oneOf(b, 'type', [...componentTypes(kind, release)]);
    return command(n, `component start ${name.v} ${pyStr(core)} ${type}`);
  };

  const ports = async (n: number, name: string, req: RestRequest, kind: ProcessKind): Promise<RestResponse> => {
    const b = body(req);
    required(b, ['action', 'port', 'dir']);
    const action = oneOf(b, 'action', ['attach', 'detach']);
    const dir = oneOf(b, 'dir', ['rx', 'tx']);
    const port = checkPort(b);
    if (action === 'detach') return command(n, `port del ${port} ${dir} ${name}`);
    // spp-ctl never looks at a mirror's vlan key.
    const vlan = kind === 'mirror' ? undefined : b.get('vlan');
    let suffix = '';
    if (vlan !== undefined && pyTruthy(vlan)) {
      if (vlan.k !== 'dict') throw new KeyInvalid('vlan', vlan);
      const op = vlan.v.get('operation');
      if (!pyIsStr(op, 'none', 'add', 'del')) throw new KeyInvalid('vlan', vlan);
      const operation = (op as { v: string }).v;
      if (operation === 'add') {
        const id = vlan.v.get('id');
        const pcp = vlan.v.get('pcp');
        if (id === undefined || pcp === undefined || pyInt(id) === undefined || pyInt(pcp) === undefined) throw new KeyInvalid('vlan', vlan);
        // '%d' % "100" raises TypeError although int("100") passed validation.
        const idText = pyPercentD(id);
        const pcpText = pyPercentD(pcp);
        if (idText === undefined || pcpText === undefined) throw new PyError('%d format: a number is required');
        suffix = ` add_vlantag ${idText} ${pcpText}`;
      } else if (operation === 'del') {
        suffix = ' del_vlantag';
      }
    }
    return command(n, `port add ${port} ${dir} ${name}${suffix}`);
  };

  const classifier = async (n: number, req: RestRequest): Promise<RestResponse> => {
    const b = body(req);
    required(b, ['action', 'type', 'port', 'mac_address']);
    const action = oneOf(b, 'action', ['add', 'del']);
    const type = oneOf(b, 'type', ['mac', 'vlan']);
    const port = checkPort(b);
    const mac = b.get('mac_address')!;
    // spp-ctl lets `default` through from 18.08.2 on (spp 1c2acca)
    const isDefault = release.defaultMac && pyIsStr(mac, 'default');
    if (!isDefault && !netaddrEui(mac)) throw new KeyInvalid('mac_address', mac);
    if (type === 'mac') return command(n, `classifier_table ${action} mac ${pyStr(mac)} ${port}`);
    const vlan = b.get('vlan') ?? { k: 'none' };
    if (pyInt(vlan) === undefined) throw new KeyInvalid('vlan', vlan);
    return command(n, `classifier_table ${action} vlan ${pyStr(vlan)} ${pyStr(mac)} ${port}`);
  };

  const guarded =
    (kind: ProcessKind, f: (m: RegExpExecArray, req: RestRequest, n: number) => Promise<RestResponse>) =>
    async (m: RegExpExecArray, req: RestRequest): Promise<RestResponse> => {
      const id = secId(m);
      const missing = known(id, kind);
      if (missing) return missing;
      return f(m, req, id.n);
    };

  /** spp-ctl's vf_exit (18.08.4): `exit`, answered from 18.08.2 on, and the vf is gone from its table. */
  const exit = async (n: number): Promise<RestResponse> => {
    const res = await command(n, 'exit');
    if (res.status === 204) backend.forget(n, true);
    return res;
  };

  /**
   * From 18.08.3 on spp-ctl asks every vf for its status before it lists the
   * processes and forgets those whose answer it cannot read: until 19.11, one
   * of 4096 bytes or more (spp f747dcf).
   */
  const processes = async (): Promise<RestResponse> => {
    if (release.processesProbe) {
      for (const entry of backend.processes()) {
        const id = entry['client-id'];
        if (entry.type !== 'vf' || typeof id !== 'number') continue;
        const res = await backend.exchange(id, 'status');
        if (res.kind === 'lost' || !fits(res.raw)) backend.forget(id);
      }
    }
    return json(backend.processes());
  };

  /** The handlers spp-ctl's V1VFCommon gives both apps; only spp_vf's adds the classifier (and, from 18.08.4, DELETE). */
  const commonRoutes = (kind: ProcessKind): Route[] => [
    { re: /^\/(-?[0-9]+)$/, method: 'GET', run: guarded(kind, (_m, _r, n) => command(n, 'status', (reply) => json(reshapeStatus(reply)))) },
    { re: /^\/(-?[0-9]+)\/components$/, method: 'POST', run: guarded(kind, (_m, req, n) => componentStart(n, req, kind)) },
    { re: /^\/(-?[0-9]+)\/components\/([^/]+)$/, method: 'DELETE', run: guarded(kind, (m, _r, n) => command(n, `component stop ${m[2]!}`)) },
    { re: /^\/(-?[0-9]+)\/components\/([^/]+)\/ports$/, method: 'PUT', run: guarded(kind, (m, req, n) => ports(n, m[2]!, req, kind)) },
  ];
  const vfRoutes: Route[] = [
    ...commonRoutes('vf'),
    ...(release.deleteVf ? [{ re: /^\/(-?[0-9]+)$/, method: 'DELETE', run: guarded('vf', (_m, _r, n) => exit(n)) }] : []),
    { re: /^\/(-?[0-9]+)\/classifier_table$/, method: 'PUT', run: guarded('vf', (_m, req, n) => classifier(n, req)) },
  ];
  const mirrorRoutes = commonRoutes('mirror');
  const v1Routes: Route[] = [{ re: /^\/processes$/, method: 'GET', run: processes }];

  const dispatch = async (routes: Route[], path: string, req: RestRequest): Promise<RestResponse> => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let matched = false;
    for (const r of routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      matched = true;
      if (r.method === method) return r.run(m, req);
    }
    return matched ? METHOD_NOT_ALLOWED() : notFound(path);
  };

  return async (req: RestRequest): Promise<RestResponse> => {
    const query = req.path.indexOf('?');
    const rawPath = query < 0 ? req.path : req.path.slice(0, query);
    let path = rawPath;
    if (rawPath.includes('%')) {
      try {
        path = decodeURIComponent(rawPath);
      } catch {
        path = rawPath;
      }
    }
    try {
      // spp-ctl mounts its v1 app at /v1 and the vf app at /vfs inside it; a
      // mounted bottle app sees (and reports in its 404) only the rest of the path.
      if (path === '/v1' || path.startsWith('/v1/')) {
        const v1 = path.slice(3) || '/';
        if (v1.startsWith('/vfs/')) return await dispatch(vfRoutes, v1.slice(4), req);
        if (v1.startsWith('/mirrors/')) return await dispatch(mirrorRoutes, v1.slice(8), req);
        return await dispatch(v1Routes, v1, req);
      }
      return notFound(path);
    } catch (err) {
      if (err instanceof KeyRequired || err instanceof BadRequest) return text(400, err.message);
      if (err instanceof KeyInvalid) return lenient ? text(400, err.message) : INTERNAL();
      return INTERNAL();
    }
  };
}

/** spp-ctl's reshaping of spp_vf's `info` (spec section 5); spp_mirror's has no classifier_table. */
function reshapeStatus(reply: Record<string, unknown>): Record<string, unknown> {
  const info = reply.info as Record<string, unknown>;
  const list = (k: string): unknown[] => info[k] as unknown[];
  const base = {
    'client-id': info['client-id'],
    ports: [...list('phy').map((n) => `phy:${n}`), ...list('vhost').map((n) => `vhost:${n}`), ...list('ring').map((n) => `ring:${n}`)],
    // 18.08.3 on (spp 2839f8c): between ports and components
    ...('master-lcore' in info ? { 'master-lcore': info['master-lcore'] } : {}),
    components: info.core,
  };
  return 'classifier_table' in info ? { ...base, classifier_table: info.classifier_table } : base;
}

const EUI_FORMATS: RegExp[] = [
  ...[':', '-'].map((s) => new RegExp(`^${Array(6).fill('[0-9a-f]{1,2}').join(s)}$`, 'i')),
  ...[':', '-', '\\.'].map((s) => new RegExp(`^${Array(3).fill('[0-9a-f]{1,4}').join(s)}$`, 'i')),
  ...[':', '-'].map((s) => new RegExp(`^${Array(2).fill('[0-9a-f]{5,6}').join(s)}$`, 'i')),
  /^[0-9a-f]{11,12}$/i,
  // EUI-64 forms, which netaddr.EUI also accepts.
  ...[':', '-'].map((s) => new RegExp(`^${Array(8).fill('[0-9a-f]{1,2}').join(s)}$`, 'i')),
  ...[':', '-', '\\.'].map((s) => new RegExp(`^${Array(4).fill('[0-9a-f]{1,4}').join(s)}$`, 'i')),
  /^[0-9a-f]{16}$/i,
];

/** Whether `netaddr.EUI(value)` accepts the value (MAC text forms or an integer). */
export function netaddrEui(v: PyValue): boolean {
  if (v.k === 'str') return EUI_FORMATS.some((re) => re.test(v.v));
  if (v.k === 'int') return v.v >= 0n && v.v < 1n << 64n;
  if (v.k === 'bool') return true;
  return false;
}
