/**
 * SPP_MIRROR (`<num_mirror>#<core_mask>`, upstream-final 1b) turned into the
 * `mirror` list of the final configuration: component i on the i-th worker
 * core of the mask, rings numbered after every vhost ring of the host. Pure.
 */
import type { HostConfiguration, MirrorDecl } from '../protocol/configuration';
import { hostLayout } from '../protocol/layout';
import { coreMaskBits } from '../protocol/mappings';

export interface MirrorRequest {
  readonly count: number;
  /** The mask as given (with or without 0x, as Python's int(x, 16) reads it). */
  readonly coreMask: string;
}

/** `2#0x30002` -> { count 2, coreMask 0x30002 }, or why not (naming the part). */
export function parseMirrorRequest(text: string, source = '--mirrors'): { ok: true; value: MirrorRequest } | { ok: false; error: string } {
  const parts = text.trim().split('#');
  if (parts.length !== 2) return { ok: false, error: `${source} ${JSON.stringify(text)}: must be <num_mirror>#<core_mask>, e.g. 2#0x30002` };
  const [countText, mask] = parts as [string, string];
  if (!/^[0-9]+$/.test(countText) || Number(countText) < 1) {
    return { ok: false, error: `${source} ${JSON.stringify(text)}: the number of mirrors ${JSON.stringify(countText)} is not an integer >= 1` };
  }
  if (coreMaskBits(mask) === undefined) {
    return { ok: false, error: `${source} ${JSON.stringify(text)}: the core mask ${JSON.stringify(mask)} is not a hex mask with at least one core` };
  }
  return { ok: true, value: { count: Number(countText), coreMask: mask } };
}

/** The rings of mirror i: ports[0] is ring_a (service side), ports[1] ring_b (source side). */
export function mirrorRings(totalVhosts: number, i: number): [string, string] {
  return [`ring:${2 * totalVhosts + 2 * i}`, `ring:${2 * totalVhosts + 2 * i + 1}`];
}

/**
 * The mirror list for `nics`, or every reason it cannot be: too few worker
 * cores, or a mirror core that a vf occupies or runs its master on (named
 * with the NIC). `nics` carry their components when declared.
 */
export function mirrorDecls(request: MirrorRequest, nics: HostConfiguration): { decls: MirrorDecl[]; errors: string[] } {
  const bits = coreMaskBits(request.coreMask);
  if (bits === undefined) return { decls: [], errors: [`mirror core mask ${request.coreMask} selects no core`] };
  const errors: string[] = [];
  if (bits.occupied.length < request.count) {
    errors.push(
      `mirror core mask ${request.coreMask} has ${bits.occupied.length} worker core(s) (the lowest, ${bits.master}, is the master) for ${request.count} mirror(s): one core each`,
    );
  }
  const cores = bits.occupied.slice(0, request.count);
  let layouts: ReturnType<typeof hostLayout> = [];
  try {
    layouts = hostLayout(nics, 'final');
  } catch {
    // a vf layout that cannot be built is refused by its own validation
  }
  for (const core of cores) {
    for (const n of layouts) {
      const nic = `NIC ${n.index} (${n.nic.pci_address}, spp_vf ${n.secId})`;
      if (n.masterCore === core) errors.push(`mirror core ${core} is the master core of ${nic}`);
      else if (n.components.some((c) => c.core === core)) errors.push(`mirror core ${core} is occupied by a component of ${nic}`);
    }
  }
  const total = nics.reduce((a, n) => a + n.num_vhost, 0);
  return { decls: cores.map((core, i) => ({ core, ports: mirrorRings(total, i) })), errors };
}
