/**
 * configuration/<host> in the two shapes networking-spp wrote: the c33920f
 * array of NICs, and the object of its final code (e7ea292 and later,
 * `{"vf": [...], "mirror": [...]}`) whose NICs carry the spp_vf layout as
 * `components`. One codec reads both, so every reader (agent, driver, views,
 * replay) agrees on what a value means; one encoder writes either.
 */
import { isLeft } from 'fp-ts/lib/Either';
import * as t from 'io-ts';
import { CoreMask, integerCodec, jsonObject, NicConfig, PciAddress, PhysicalNetwork, PositiveInt, preview, pythonJson } from './codecs';

/** `legacy`: the c33920f array; `final`: the object of networking-spp's last code. */
export type ConfigFormat = 'legacy' | 'final';
export const CONFIG_FORMATS: readonly ConfigFormat[] = ['final', 'legacy'];

/** Which neutron driver reads which shape (each crashes on the other with a TypeError; the port ends binding_failed). */
export const FORMAT_READERS: Readonly<Record<ConfigFormat, string>> = {
  legacy: 'the networking-spp driver up to c33920f (Dec 2018)',
  final: 'the networking-spp driver from e7ea292 on (final master 0170ff7, 2019)',
};

/** Both accepted shapes, for the message of a value that is neither. */
export const CONFIGURATION_SHAPES =
  'a JSON array of NIC objects [{"pci_address", "physical_network", "num_vhost", "core_mask"}, ...] (networking-spp c33920f) ' +
  'or a JSON object {"vf": [NIC objects, each with optional "components": [...]], "mirror": [...]} (networking-spp final, e7ea292 and later)';

const Lcore = integerCodec('core', 0, 127);

/** One spp_vf component as SPP_COMPONENT_CONF and the final configuration declare it. */
export const ComponentDecl = jsonObject(
  t.type({ core: Lcore, name: t.string, type: t.string, rx_port: t.array(t.string), tx_port: t.array(t.string) }),
  '{"core", "name", "type", "rx_port": [...], "tx_port": [...]}',
);
export type ComponentDecl = t.TypeOf<typeof ComponentDecl>;

/** One spp_mirror component (TaaS, e8edce7): read and kept, used by no code here. */
export const MirrorDecl = jsonObject(t.type({ core: Lcore, ports: t.array(t.string) }), '{"core", "ports": [...]}');
export type MirrorDecl = t.TypeOf<typeof MirrorDecl>;

/** A NIC of the final object: the c33920f fields plus its declared layout, when there is one. */
export const VfEntry = jsonObject(
  t.intersection([
    t.type({ pci_address: PciAddress, physical_network: PhysicalNetwork, num_vhost: PositiveInt, core_mask: CoreMask }),
    t.partial({ components: t.array(ComponentDecl) }),
  ]),
  '{"physical_network", "pci_address", "num_vhost", "core_mask"[, "components": [...]]}',
);
export type NicEntry = t.TypeOf<typeof VfEntry>;

/** The NICs of a host in DPDK port order, whichever shape they were stored in. */
export type HostConfiguration = NicEntry[];

export interface ConfigurationDoc {
  readonly format: ConfigFormat;
  readonly vf: HostConfiguration;
  /** Only in the final shape; kept so that a rewrite loses nothing. */
  readonly mirror?: MirrorDecl[];
}

const LegacyNics = t.array(NicConfig);
const FinalObject = t.intersection([t.type({ vf: t.array(VfEntry) }), t.partial({ mirror: t.array(MirrorDecl) })]);

const nicFields = (n: NicEntry): NicEntry => ({
  pci_address: n.pci_address,
  physical_network: n.physical_network,
  num_vhost: n.num_vhost,
  core_mask: n.core_mask,
});

/** configuration/<host>: either shape, decoded to the NICs, the shape they came in and the mirror list. */
export const ConfigurationValue = new t.Type<ConfigurationDoc, unknown, unknown>(
  'configuration',
  (u): u is ConfigurationDoc => typeof u === 'object' && u !== null && 'format' in u && 'vf' in u,
  (u, c) => {
    if (Array.isArray(u)) {
      const r = LegacyNics.validate(u, c);
      if (isLeft(r)) return r;
      if (r.right.length === 0) return t.failure(u, c, 'must list at least one NIC');
      // c33920f's readers know only the four fields; anything else in an array entry is not ours to use
      return t.success({ format: 'legacy', vf: r.right.map(nicFields) });
    }
    if (typeof u !== 'object' || u === null || !('vf' in u)) return t.failure(u, c, `must be ${CONFIGURATION_SHAPES}, got ${preview(u)}`);
    const vf = (u as { vf: unknown }).vf;
    if (!Array.isArray(vf))
      return t.failure(vf, [...c, { key: 'vf', type: FinalObject, actual: vf }], `must be a JSON array of NIC objects, got ${preview(vf)}`);
    if (vf.length === 0) return t.failure(vf, [...c, { key: 'vf', type: FinalObject, actual: vf }], 'must list at least one NIC');
    // fields are named from the root, as if the intersection were the root (describeErrors skips its member indexes)
    const last = c[c.length - 1];
    const r = FinalObject.validate(u, last ? [...c.slice(0, -1), { ...last, type: FinalObject }] : c);
    if (isLeft(r)) return r;
    const mirror = r.right.mirror;
    return t.success({
      format: 'final',
      vf: r.right.vf.map((n) => ({ ...nicFields(n), ...(n.components ? { components: n.components } : {}) })),
      ...(mirror ? { mirror } : {}),
    });
  },
  (doc) => JSON.parse(encodeConfiguration(doc)),
);

function componentValue(c: ComponentDecl): Record<string, unknown> {
  // the final set-up script's key order
  return { core: c.core, type: c.type, name: c.name, rx_port: c.rx_port, tx_port: c.tx_port };
}

/** The value as the set-up scripts write it (Python json.dumps formatting, their key order). */
export function encodeConfiguration(doc: ConfigurationDoc): string {
  if (doc.format === 'legacy') return pythonJson(doc.vf.map(nicFields));
  const vf = doc.vf.map((n) => ({
    physical_network: n.physical_network,
    pci_address: n.pci_address,
    num_vhost: n.num_vhost,
    core_mask: n.core_mask,
    ...(n.components ? { components: n.components.map(componentValue) } : {}),
  }));
  return pythonJson(doc.mirror ? { vf, mirror: doc.mirror.map((m) => ({ core: m.core, ports: m.ports })) } : { vf });
}

/** The shape of a stored value, without checking the rest (undefined: neither, or not JSON). */
export function formatOfRaw(raw: string): ConfigFormat | undefined {
  const head = raw.trimStart()[0];
  return head === '[' ? 'legacy' : head === '{' ? 'final' : undefined;
}
