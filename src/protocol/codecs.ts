/**
 * io-ts codecs for every value stored under /spp/openstack/, and decoders
 * that turn a raw etcd value into either the typed value or one message that
 * names the key, the field and what is wrong with it.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either';

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

/** A JSON integer (not a numeric string: Python's json.dumps writes numbers). */
export const Integer = refine(t.number, 'integer', (n) => (Number.isSafeInteger(n) ? undefined : `must be an integer, got ${n}`));

export const NonNegativeInt = refine(Integer, 'non-negative integer', (n) => (n >= 0 ? undefined : `must be >= 0, got ${n}`));
export const PositiveInt = refine(Integer, 'positive integer', (n) => (n >= 1 ? undefined : `must be >= 1, got ${n}`));

const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** Why a MAC address cannot be put in the classifier table, or undefined when it can. */
export function macProblem(mac: string): string | undefined {
  if (!MAC_RE.test(mac)) return `${JSON.stringify(mac)} is not a MAC address (six colon-separated hex bytes, e.g. fa:16:3e:a0:da:db)`;
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
export const VlanId = refine(Integer, 'VLAN id', (n) =>
  n >= VLAN_MIN && n <= VLAN_MAX ? undefined : `VLAN id must be ${VLAN_MIN}-${VLAN_MAX}, got ${n}`,
);

const PCI_RE = /^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$/;
export const PciAddress = refine(t.string, 'PCI address', (s) =>
  PCI_RE.test(s) ? undefined : `${JSON.stringify(s)} is not a PCI address (BB:DD.F or DDDD:BB:DD.F, e.g. 00:04.0)`,
);

const CORE_MASK_RE = /^(0[xX])?[0-9a-fA-F]+$/;
export const CoreMask = refine(t.string, 'core mask', (s) =>
  CORE_MASK_RE.test(s) ? undefined : `${JSON.stringify(s)} is not a hex core mask (e.g. 0xfe)`,
);

const NAME_RE = /^[^/\s]+$/;
export const PhysicalNetwork = refine(t.string, 'physical network', (s) =>
  NAME_RE.test(s) ? undefined : `${JSON.stringify(s)} is not a physical network name (non-empty, no '/' or spaces)`,
);

/** One NIC given to SPP, as stored in configuration/<host>. */
export const NicConfig = t.type({
  pci_address: PciAddress,
  physical_network: PhysicalNetwork,
  num_vhost: PositiveInt,
  core_mask: CoreMask,
});
export type NicConfig = t.TypeOf<typeof NicConfig>;

export const HostConfiguration = refine(t.array(NicConfig), 'configuration', (a) =>
  a.length > 0 ? undefined : 'must list at least one NIC',
);
export type HostConfiguration = t.TypeOf<typeof HostConfiguration>;

/** bind_port/<host>/<port>: vlan_id is present only for VLAN networks; null is read as absent. */
export const BindPort = t.intersection([
  t.type({ vhost_id: NonNegativeInt, mac_address: MacAddress }),
  t.partial({ vlan_id: t.union([VlanId, t.null]) }),
]);
export type BindPort = t.TypeOf<typeof BindPort>;

export const Action = t.keyof({ plug: null, unplug: null });
export type Action = t.TypeOf<typeof Action>;

/** port_status: `up`, or our fail-fast extension `error: <reason>`. */
export const PortStatus = refine(t.string, 'port status', (s) =>
  s === 'up' || s.startsWith('error: ') ? undefined : `must be "up" or "error: <reason>", got ${JSON.stringify(s)}`,
);
export type PortStatus = t.TypeOf<typeof PortStatus>;

export const FREE_VHOST = 'None';

/** vhost/<host>/<phys>/<id>: the text None, or the owning port id. */
export type VhostOwner = { readonly free: true } | { readonly free: false; readonly portId: string };

/** /spp/openstack/agent/<host> (extension): written by the agent under a lease. */
export const AgentInfo = t.type({ version: t.string, started_at: t.string, pid: Integer });
export type AgentInfo = t.TypeOf<typeof AgentInfo>;

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
    const why =
      e.message ??
      (e.value === undefined ? 'is missing' : `expected ${last?.type.name ?? 'a valid value'}, got ${preview(e.value)}`);
    lines.add(path ? `field ${path}: ${why}` : why);
  }
  return [...lines].join('; ');
}

function isCombinatorMember(context: t.Context, index: number, _len: number): boolean {
  const parent = context[index - 1]?.type;
  return parent instanceof t.IntersectionType || parent instanceof t.UnionType;
}

/** A short rendering of a bad value for messages (values may be huge or binary). */
export function preview(value: unknown, max = 60): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > max ? `${s.slice(0, max)}...(${s.length} chars)` : s;
}

export type Decoded<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string };

/** Decodes a JSON value of `key`; the error names the key and the field. */
export function decodeJson<A>(codec: t.Type<A, unknown, unknown>, key: string, raw: string): Decoded<A> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    return { ok: false, error: `${key}: not valid JSON (${(err as Error).message}): ${preview(raw)}` };
  }
  return decodeValue(codec, key, parsed);
}

/** Decodes an already-parsed value; the error names the key and the field. */
export function decodeValue<A>(codec: t.Type<A, unknown, unknown>, key: string, value: unknown): Decoded<A> {
  const r = codec.decode(value);
  return isLeft(r) ? { ok: false, error: `${key}: ${describeErrors(r.left)}` } : { ok: true, value: r.right };
}

/** Decodes a plain-text value (action, port_status). */
export function decodeText<A>(codec: t.Type<A, unknown, unknown>, key: string, raw: string): Decoded<A> {
  return decodeValue(codec, key, raw);
}

export function decodeVhostOwner(key: string, raw: string): Decoded<VhostOwner> {
  if (raw === FREE_VHOST) return { ok: true, value: { free: true } };
  if (raw.length === 0 || /\s/.test(raw) || raw.includes('/')) {
    return { ok: false, error: `${key}: must be "None" or a port id, got ${preview(raw)}` };
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
