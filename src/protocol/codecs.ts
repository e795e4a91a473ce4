/**
 * io-ts codecs for every value stored under /spp/openstack/, and decoders
 * that turn a raw etcd value into either the typed value or one message that
 * names the key, the field and what is wrong with it.
 */

import { isLeft } from 'fp-ts/lib/Either';
import * as t from 'io-ts';
import { jsonShapeProblem, sizeProblem } from './limits';
import { CONTROL_CHARACTER } from './printable';

/** A codec that checks a predicate on an already-typed value and says why it fails. */
function refine<A>(base: t.Type<A, unknown, unknown>, name: string, check: (a: A) => string | undefined): t.Type<A, unknown, unknown> {
  return new t.Type<A, unknown, unknown>(
    name,
    (u): u is A => base.is(u) && check(u as A) === undefined,
    (u, c) => {
      const r = base.validate(u, c);
      if (isLeft(r)) return r;
      const problem = check(r.right);
      return problem === undefined ? r : t.failure(u, c, problem);
    },
    base.encode,
  );
}

/**
 * A JSON integer in [min, max] (not a numeric string: Python's json.dumps
 * writes numbers). One message per value, naming the accepted range.
 */
export function integerCodec(name: string, min?: number, max?: number): t.Type<number, number, unknown> {
  const what =
    min !== undefined && max !== undefined
      ? `an integer ${min}-${max}`
      : min === 1
        ? 'a positive integer'
        : min === 0
          ? 'a non-negative integer'
          : 'an integer';
  const problem = (u: unknown): string | undefined => {
    if (u === undefined) return 'is missing';
    if (typeof u !== 'number' || !Number.isSafeInteger(u)) return `must be ${what}, got ${preview(u)}`;
    if ((min !== undefined && u < min) || (max !== undefined && u > max)) return `must be ${what}, got ${u}`;
    return undefined;
  };
  return new t.Type<number, number, unknown>(
    name,
    (u): u is number => problem(u) === undefined,
    (u, c) => {
      const why = problem(u);
      return why === undefined ? t.success(u as number) : t.failure(u, c, why);
    },
    t.identity,
  );
}

/** Accepts only a JSON object (not an array or null) before checking its fields, so the message says so. */
export function jsonObject<A, O>(inner: t.Type<A, O, unknown>, shape: string): t.Type<A, O, unknown> {
  return new t.Type<A, O, unknown>(
    inner.name,
    inner.is,
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `must be a JSON object ${shape}, got ${preview(u)}`);
      // The inner codec reports fields relative to this entry, as if it were the root.
      const last = c[c.length - 1];
      const innerContext: t.Context = last ? [...c.slice(0, -1), { ...last, type: inner }] : c;
      return inner.validate(u, innerContext);
    },
    inner.encode,
  );
}

export const Integer = integerCodec('integer');
export const NonNegativeInt = integerCodec('non-negative integer', 0);
export const PositiveInt = integerCodec('positive integer', 1);

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Why a MAC address cannot be put in the classifier table, or undefined when it can. */
export function macProblem(mac: string): string | undefined {
  if (!MAC_RE.test(mac)) return `${preview(mac)} is not a MAC address (six colon-separated hex bytes, e.g. fa:16:3e:a0:da:db)`;
  const n = mac.toLowerCase();
  // spp_vf treats MAC 0 as "no entry" (the add silently does nothing) and
  // 00:00:00:00:00:01 as its default-route marker, so neither can name a port.
  if (n === '00:00:00:00:00:00') return 'MAC 00:00:00:00:00:00 cannot be classified (spp_vf treats it as "no entry")';
  if (n === '00:00:00:00:00:01') return 'MAC 00:00:00:00:00:01 is reserved by spp_vf for the default classifier entry';
  if ((parseInt(n.slice(0, 2), 16) & 1) === 1) return `${mac} is a multicast address; a port needs a unicast MAC`;
  return undefined;
}

export const MacAddress = refine(t.string, 'MAC address', macProblem);

export const VLAN_MIN = 1;
export const VLAN_MAX = 4094;
export const VlanId = integerCodec('VLAN id', VLAN_MIN, VLAN_MAX);

/** vlan_id of bind_port: a VLAN id, or null (read as absent), with one message for both. */
const OptionalVlanId = new t.Type<number | null, number | null, unknown>(
  'VLAN id or null',
  (u): u is number | null => u === null || VlanId.is(u),
  (u, c) => (u === null ? t.success(null) : VlanId.validate(u, c)),
  t.identity,
);

const PCI_RE = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
export const PciAddress = refine(t.string, 'PCI address', (s) =>
  PCI_RE.test(s) ? undefined : `${preview(s)} is not a PCI address (BB:DD.F or DDDD:BB:DD.F, e.g. 00:04.0)`,
);

const CORE_MASK_RE = /^(0[xX])?[0-9a-fA-F]+$/;
export const CoreMask = refine(t.string, 'core mask', (s) => (CORE_MASK_RE.test(s) ? undefined : `${preview(s)} is not a hex core mask (e.g. 0xfe)`));

const NAME_RE = /^[^/\s]+$/;
export const PhysicalNetwork = refine(t.string, 'physical network', (s) =>
  NAME_RE.test(s) ? undefined : `${preview(s)} is not a physical network name (non-empty, no '/' or spaces)`,
);

/** One NIC given to SPP, as stored in configuration/<host>. */
export const NicConfig = jsonObject(
  t.type({
    pci_address: PciAddress,
    physical_network: PhysicalNetwork,
    num_vhost: PositiveInt,
    core_mask: CoreMask,
  }),
  '{"pci_address", "physical_network", "num_vhost", "core_mask"}',
);
export type NicConfig = t.TypeOf<typeof NicConfig>;

/** bind_port/<host>/<port>: vlan_id is present only for VLAN networks; null is read as absent. */
export const BindPort = jsonObject(
  t.intersection([t.type({ vhost_id: NonNegativeInt, mac_address: MacAddress }), t.partial({ vlan_id: OptionalVlanId })]),
  '{"vhost_id": N, "mac_address": "..."[, "vlan_id": V]}',
);
export type BindPort = t.TypeOf<typeof BindPort>;

const ActionWords = t.keyof({ plug: null, unplug: null });
export const Action = new t.Type<t.TypeOf<typeof ActionWords>, string, unknown>(
  'action',
  ActionWords.is,
  (u, c) => (ActionWords.is(u) ? t.success(u) : t.failure(u, c, `must be "plug" or "unplug", got ${preview(u)}`)),
  t.identity,
);
export type Action = t.TypeOf<typeof Action>;

/** port_status: `up`, or our fail-fast extension `error: <reason>`. */
export const PortStatus = refine(t.string, 'port status', (s) =>
  s === 'up' || (s.startsWith('error: ') && s.slice('error: '.length).trim() !== '') ? undefined : `must be "up" or "error: <reason>", got ${preview(s)}`,
);
export type PortStatus = t.TypeOf<typeof PortStatus>;

export const FREE_VHOST = 'None';

/** mirror/<host>/<id>: the same text None when free, else the owning tap flow id (upstream-final 1b). */
export const FREE_MIRROR = FREE_VHOST;

/** A mirror id in tap_info: Python's json.dumps of int(id), or null for a direction not mirrored. */
const MirrorRef = t.union([NonNegativeInt, t.null]);

/** tap_info/<host>/<tap_flow_id>, written by the TaaS service driver; fields in its order. */
export const TapInfo = jsonObject(
  t.type({ service_port: t.string, source_port: t.string, mirror_in: MirrorRef, mirror_out: MirrorRef }),
  '{"service_port": "...", "source_port": "...", "mirror_in": N|null, "mirror_out": N|null}',
);
export type TapInfo = t.TypeOf<typeof TapInfo>;

/** tap_action: the same words as action. */
export const TapAction = Action;
export type TapAction = Action;

/** tap_status: upstream writes only `up`; `error: <reason>` is our extension, as for port_status. */
export const TapStatus = PortStatus;
export type TapStatus = PortStatus;

/** mirror/<host>/<id>: None or a tap flow id, checked as a vhost owner is. */
export function decodeMirrorOwner(key: string, raw: string): Decoded<{ readonly free: true } | { readonly free: false; readonly tapFlowId: string }> {
  const d = decodeVhostOwner(key, raw);
  if (!d.ok) return { ok: false, error: d.error.replace('or a port id', 'or a tap flow id') };
  return { ok: true, value: d.value.free ? { free: true } : { free: false, tapFlowId: d.value.portId } };
}

/** vhost/<host>/<phys>/<id>: the text None, or the owning port id. */
export type VhostOwner = { readonly free: true } | { readonly free: false; readonly portId: string };

/** /spp/openstack/agent/<host> (extension): written by the agent under a lease. */
/**
 * The value of agent/<host> (our extension; the original driver never reads
 * it, ours checks that the key exists). `refused`: why etcd refuses the agent
 * while it does (issue 26), for `spp status`; older readers ignore it.
 */
export const AgentInfo = t.intersection([t.type({ version: t.string, started_at: t.string, pid: Integer }), t.partial({ refused: t.string })]);
export type AgentInfo = t.TypeOf<typeof AgentInfo>;

/** agent-lock/<host>: the agent holding the host's lock (src/daemon/leader.ts writes it; `node` and `pid` let a restarted agent see that the holder died). */
export const AgentLockHolder = t.type({ node: t.string, pid: Integer, version: t.string, started_at: t.string });
export type AgentLockHolder = t.TypeOf<typeof AgentLockHolder>;

/** Formats io-ts errors as "field vhost_id: must be ...". */
export function describeErrors(errors: t.Errors): string {
  const lines = new Set<string>();
  for (const e of errors) {
    const path = e.context
      .slice(1)
      .map((c) => c.key)
      // intersection/union members are addressed by index strings; they are not fields
      .filter((k, i, all) => k !== '' && !(/^[0-9]+$/.test(k) && isCombinatorMember(e.context, i + 1, all.length)))
      .join('.');
    const last = e.context[e.context.length - 1];
    const why = e.message ?? (e.value === undefined ? 'is missing' : `expected ${last?.type.name ?? 'a valid value'}, got ${preview(e.value)}`);
    lines.add(path ? `field ${path}: ${why}` : why);
  }
  return [...lines].join('; ');
}

function isCombinatorMember(context: t.Context, index: number, _len: number): boolean {
  const parent = context[index - 1]?.type;
  return parent instanceof t.IntersectionType || parent instanceof t.UnionType;
}

/**
 * A short rendering of a bad value for messages (values may be huge, deeply
 * nested or binary). Never a full JSON.stringify or String() of a structure:
 * both recurse, and a value nested 10,000 deep overflows the stack.
 */
export function preview(value: unknown, max = 60): string {
  if (typeof value === 'string') {
    const s = JSON.stringify(value);
    return s.length > max ? `${s.slice(0, max)}...(${s.length} chars)` : s;
  }
  const s = renderBounded(value, max);
  return s.length > max ? `${s.slice(0, max)}...` : s;
}

/** JSON-like text of `value`, stopping once about `budget` characters are out (each level adds one, so recursion is bounded too). */
function renderBounded(value: unknown, budget: number): string {
  let out = '';
  const walk = (v: unknown): void => {
    if (out.length > budget) return;
    if (Array.isArray(v)) {
      out += '[';
      for (let i = 0; i < v.length && out.length <= budget; i++) {
        if (i > 0) out += ',';
        walk(v[i]);
      }
      out += ']';
    } else if (v !== null && typeof v === 'object') {
      out += '{';
      let first = true;
      for (const k of Object.keys(v)) {
        if (out.length > budget) break;
        if (!first) out += ',';
        first = false;
        out += `${JSON.stringify(k.slice(0, budget))}:`;
        walk((v as Record<string, unknown>)[k]);
      }
      out += '}';
    } else if (typeof v === 'string') {
      out += JSON.stringify(v.length > budget ? v.slice(0, budget) : v);
    } else {
      // Infinity and NaN as themselves: JSON.stringify would say null
      out += typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : typeof v;
    }
  };
  walk(value);
  return out;
}

export type Decoded<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string };

/**
 * Parses a JSON value of `key` within the limits of its kind of key
 * (src/protocol/limits.ts): size first, then nesting depth and number range
 * in one pass over the text, and only then JSON.parse.
 */
export function parseBoundedJson(key: string, raw: string): Decoded<unknown> {
  const big = sizeProblem(key, raw);
  if (big) return { ok: false, error: big };
  const shape = jsonShapeProblem(raw);
  if (shape) return { ok: false, error: `${key}: ${shape}` };
  try {
    return { ok: true, value: JSON.parse(raw) };
  } catch (err) {
    return { ok: false, error: `${key}: not valid JSON (${(err as Error).message}): ${preview(raw)}` };
  }
}

/** Decodes a JSON value of `key`; the error names the key and the field. */
export function decodeJson<A>(codec: t.Type<A, unknown, unknown>, key: string, raw: string): Decoded<A> {
  const parsed = parseBoundedJson(key, raw);
  return parsed.ok ? decodeValue(codec, key, parsed.value) : parsed;
}

/** Decodes an already-parsed value; the error names the key and the field. */
export function decodeValue<A>(codec: t.Type<A, unknown, unknown>, key: string, value: unknown): Decoded<A> {
  const r = codec.decode(value);
  return isLeft(r) ? { ok: false, error: `${key}: ${describeErrors(r.left)}` } : { ok: true, value: r.right };
}

/** Decodes a plain-text value (action, port_status). */
export function decodeText<A>(codec: t.Type<A, unknown, unknown>, key: string, raw: string): Decoded<A> {
  const big = sizeProblem(key, raw);
  return big ? { ok: false, error: big } : decodeValue(codec, key, raw);
}

export function decodeVhostOwner(key: string, raw: string): Decoded<VhostOwner> {
  const big = sizeProblem(key, raw);
  if (big) return { ok: false, error: big };
  if (raw === FREE_VHOST) return { ok: true, value: { free: true } };
  if (raw.length === 0 || /\s/.test(raw) || raw.includes('/') || CONTROL_CHARACTER.test(raw)) {
    return { ok: false, error: `${key}: must be "None" or a port id, got ${preview(raw)}` };
  }
  // Writers that use JSON null or Python's None repr in another case mean "free", but the driver only
  // recognises the exact text None, so such a vhost would never be claimed again.
  if (raw === 'null' || raw.toLowerCase() === 'none') {
    return { ok: false, error: `${key}: must be "None" (exactly) or a port id, got ${preview(raw)}` };
  }
  return { ok: true, value: { free: false, portId: raw } };
}

/** The vlan id of a bind_port, or undefined for a flat network. */
export function vlanOf(bind: BindPort): number | undefined {
  return bind.vlan_id ?? undefined;
}

/** Python's json.dumps formatting (", " and ": " separators), so values we write look like the original's. */
export function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}: ${pythonJson(v)}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}
