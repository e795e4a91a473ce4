/**
 * DPDK_PORT_MAPPINGS (the host set-up string) and the semantic rules of a
 * host configuration: core masks, core counts, overlaps and the limits of the
 * real spp-ctl / spp_vf.
 */
import { decodeValue, NicConfig } from './codecs';
import type { HostConfiguration } from './configuration';

/** RTE_MAX_LCORE: lcore ids 0-127. */
export const MAX_LCORE = 127;
/** RTE_MAX_ETHPORTS: vhost:N and ring:N need N < 32, and rings 2v, 2v+1 exist per vhost. */
export const MAX_PORT_NUMBER = 31;
/** A vf status of 6 or more vhosts reaches 4096 bytes, which the real spp-ctl cannot read. */
export const MAX_VHOSTS_READABLE_STATUS = 5;
/** The original core allocation serves at most 14 vhosts per NIC. */
export const MAX_VHOSTS_PER_NIC = 14;

export interface CoreMaskBits {
  readonly master: number;
  /** Cores that components occupy, ascending. */
  readonly occupied: readonly number[];
}

/** Cores a NIC's components occupy besides the master: two forwarders per vhost, the classifier and the merger. */
export function occupiedCoresNeeded(numVhost: number): number {
  return 2 * numVhost + 2;
}

/** Splits a hex core mask into its master core (lowest bit) and occupied cores. */
export function coreMaskBits(mask: string): CoreMaskBits | undefined {
  if (!/^(0[xX])?[0-9a-fA-F]+$/.test(mask)) return undefined;
  let n = BigInt(mask.startsWith('0x') || mask.startsWith('0X') ? mask : `0x${mask}`);
  const bits: number[] = [];
  for (let bit = 0; n > 0n; bit++, n >>= 1n) if (n & 1n) bits.push(bit);
  const [master, ...occupied] = bits;
  return master === undefined ? undefined : { master, occupied };
}

export interface ValidationOptions {
  /**
   * Limits of the real spp-ctl/spp_vf (port numbers, 14 vhosts per NIC) are
   * errors by default; the lenient emulator and scale tests lift them.
   */
  readonly beyondRealLimits?: boolean;
  /** The caller measures the status size per release (spp config build): no rule-of-thumb warning. Default false. */
  readonly statusSizeMeasured?: boolean;
  /** The NICs' layouts are declared (--components): their core counts are checked against those, not 2n+2. */
  readonly declaredLayouts?: boolean;
}

export interface Validation {
  readonly errors: string[];
  readonly warnings: string[];
}

/** Checks the rules that involve several fields or several NICs. */
export function validateConfiguration(
  nics: readonly (NicConfig & { readonly components?: unknown })[],
  label: (index: number) => string,
  options: ValidationOptions = {},
): Validation {
  const errors: string[] = [];
  const warnings: string[] = [];
  const limit = (msg: string): void => {
    (options.beyondRealLimits ? warnings : errors).push(msg);
  };
  const coreOwner = new Map<number, number>();
  const pciOwner = new Map<string, number>();
  const masters: { index: number; core: number }[] = [];
  let firstVhost = 0;
  nics.forEach((nic, i) => {
    const where = label(i);
    const bits = coreMaskBits(nic.core_mask);
    // 00:04.0 and 0000:00:04.0 name the same device (domain 0 is implied).
    const pci = nic.pci_address.toLowerCase().replace(/^0000:/, '');
    const samePci = pciOwner.get(pci);
    if (samePci !== undefined) errors.push(`${where}: PCI address ${nic.pci_address} is already used by ${label(samePci)}`);
    else pciOwner.set(pci, i);
    if (bits === undefined) {
      errors.push(`${where}: core mask ${JSON.stringify(nic.core_mask)} selects no core`);
    } else {
      const need = occupiedCoresNeeded(nic.num_vhost);
      // a declared layout sets its own core count; its cores are checked against the mask (layout-rules.ts)
      if (nic.components === undefined && !options.declaredLayouts && bits.occupied.length !== need) {
        errors.push(
          `${where}: core mask ${nic.core_mask} has ${bits.occupied.length} occupied core(s) ` +
            `[${bits.occupied.join(',')}] besides master core ${bits.master}; ${nic.num_vhost} vhost(s) need exactly ${need} ` +
            `(2 forwarders per vhost + classifier + merger)`,
        );
      }
      const tooHigh = [bits.master, ...bits.occupied].filter((c) => c > MAX_LCORE);
      if (tooHigh.length > 0) errors.push(`${where}: core mask ${nic.core_mask} uses core(s) ${tooHigh.join(',')} above ${MAX_LCORE}`);
      const shared = new Map<number, number[]>();
      for (const core of bits.occupied) {
        const other = coreOwner.get(core);
        if (other !== undefined) shared.set(other, [...(shared.get(other) ?? []), core]);
        else coreOwner.set(core, i);
      }
      for (const [other, cores] of shared) {
        errors.push(`${where}: core mask ${nic.core_mask} occupies core(s) ${cores.join(',')} already occupied by ${label(other)}`);
      }
      masters.push({ index: i, core: bits.master });
    }
    if (nic.num_vhost > MAX_VHOSTS_PER_NIC) {
      limit(`${where}: ${nic.num_vhost} vhosts; the spp_vf core allocation serves at most ${MAX_VHOSTS_PER_NIC} per NIC`);
    } else if (nic.num_vhost > MAX_VHOSTS_READABLE_STATUS && !options.statusSizeMeasured) {
      warnings.push(
        `${where}: ${nic.num_vhost} vhosts; the status of an spp_vf with more than ${MAX_VHOSTS_READABLE_STATUS} vhosts ` +
          `reaches 4096 bytes, which the real spp-ctl cannot return (HTTP 500): use at most ${MAX_VHOSTS_READABLE_STATUS} with a real spp-ctl`,
      );
    }
    const lastVhost = firstVhost + nic.num_vhost - 1;
    if (2 * lastVhost + 1 > MAX_PORT_NUMBER) {
      limit(
        `${where}: vhost ids ${firstVhost}-${lastVhost} need ring ports up to ring:${2 * lastVhost + 1}; ` +
          `spp_vf port numbers stop at ${MAX_PORT_NUMBER} (at most 16 vhosts per host)`,
      );
    }
    firstVhost = lastVhost + 1;
  });
  // A master core may be shared with other masters, but a busy-polling component on it starves the
  // process's command loop; it works, so it is a warning.
  for (const m of masters) {
    const owner = coreOwner.get(m.core);
    if (owner !== undefined && owner !== m.index) {
      warnings.push(`${label(m.index)}: master core ${m.core} is occupied by a component of ${label(owner)}; choose a master core no spp_vf occupies`);
    }
  }
  return { errors, warnings };
}

export interface ParsedMappings extends Validation {
  /** The configuration, when there are no errors. */
  readonly configuration?: HostConfiguration;
}

/**
 * Parses `<pci>#<physical_network>#<num_vhost>#<core_mask>,...` and reports
 * every problem at once, each naming its NIC entry.
 */
export function parseMappings(text: string, options: ValidationOptions = {}): ParsedMappings {
  const entries = text.split(',').map((s) => s.trim());
  const label = (i: number): string => `NIC entry ${i + 1} ${JSON.stringify(entries[i])}`;
  const errors: string[] = [];
  const nics: NicConfig[] = [];
  /** Entry index of each parsed NIC. */
  const entryOf: number[] = [];
  if (text.trim() === '') return { errors: ['mappings are empty: expected <pci>#<physical_network>#<num_vhost>#<core_mask>,...'], warnings: [] };
  entries.forEach((entry, i) => {
    const fields = entry.split('#');
    if (fields.length !== 4) {
      errors.push(`${label(i)}: expected 4 '#'-separated fields <pci>#<physical_network>#<num_vhost>#<core_mask>, got ${fields.length}`);
      return;
    }
    const [pci, phys, num, mask] = fields as [string, string, string, string];
    // Integers (also negative ones) become numbers so the codec reports the range; anything else stays text.
    const numVhost = /^-?[0-9]+$/.test(num) ? Number(num) : NaN;
    const candidate = { pci_address: pci, physical_network: phys, num_vhost: Number.isNaN(numVhost) ? num : numVhost, core_mask: mask };
    const decoded = decodeValue(NicConfig, label(i), candidate);
    if (!decoded.ok) {
      errors.push(decoded.error);
      return;
    }
    nics.push(decoded.value);
    entryOf.push(i);
  });
  // The entries that parsed are still checked together, so one run reports every problem. Leaving bad
  // entries out only lowers later vhost ids, so the port-number check cannot report a false error.
  const semantic = validateConfiguration(nics, (j) => label(entryOf[j]!), options);
  const entryNumber = (msg: string): number => Number(/^NIC entry ([0-9]+) /.exec(msg)?.[1] ?? 0);
  const all = [...errors, ...semantic.errors].sort((a, b) => entryNumber(a) - entryNumber(b));
  return all.length > 0 ? { errors: all, warnings: semantic.warnings } : { ...semantic, configuration: nics };
}

/** Formats a configuration back into DPDK_PORT_MAPPINGS form. */
export function formatMappings(config: readonly NicConfig[]): string {
  return config.map((n) => `${n.pci_address}#${n.physical_network}#${n.num_vhost}#${n.core_mask}`).join(',');
}
