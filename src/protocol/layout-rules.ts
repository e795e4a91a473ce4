/**
 * The checks a declared spp_vf layout (SPP_COMPONENT_CONF, or `components`
 * in a final configuration) must pass before anything runs it. Upstream uses
 * the yaml verbatim, so a wrong core hangs spp_vf and a wrong vhost number
 * crashes its agent at plug time; here each problem is named by NIC,
 * component and field.
 */
import type { ComponentDecl, ConfigFormat, HostConfiguration } from './configuration';
import { COMPONENT_TYPES, type ComponentType, effectiveComponents, portNames, vhostRanges, vhostTargets } from './layout';
import { coreMaskBits, MAX_PORT_NUMBER, type Validation, validateConfiguration } from './mappings';

export interface LayoutRuleOptions {
  /**
   * The target spp_vf takes components of different types on one core (SPP
   * 18.08.2 and later). Off: such a core is refused, as spp_vf 18.08 does
   * (`bad value(component type)`).
   */
  readonly mixedCoreTypes?: boolean;
}

/** spp_vf's component names are one word, kept in a 32-byte buffer. */
const NAME_RE = /^[^\s]{1,31}$/;
const PORT_RE = /^(phy|vhost|ring):([0-9]+)$/;

/** Problems of one NIC's declared components; empty when it may be built. */
export function declaredLayoutProblems(
  index: number,
  nic: { readonly core_mask: string; readonly components?: readonly ComponentDecl[] },
  vhostIds: readonly number[],
  format: ConfigFormat,
  where: string,
  options: LayoutRuleOptions = {},
): string[] {
  const decls = nic.components;
  if (!decls) return [];
  const out: string[] = [];
  const at = (c: ComponentDecl, i: number, field: string, what: string): void => {
    out.push(`${where}: component ${i} (${JSON.stringify(c.name)}) field ${field}: ${what}`);
  };
  if (decls.length === 0) out.push(`${where}: field components: is empty; a NIC needs at least a classifier and a merger`);
  const bits = coreMaskBits(nic.core_mask);
  const names = new Map<string, number>();
  const phy = portNames.phy(index);
  const own = new Set(vhostIds);
  const used = { rx: new Map<string, string>(), tx: new Map<string, string>() };
  decls.forEach((c, i) => {
    if (!NAME_RE.test(c.name)) at(c, i, 'name', 'must be one word of 1-31 characters (spp_vf keeps it in a 32-byte buffer)');
    const twin = names.get(c.name);
    if (twin !== undefined) at(c, i, 'name', `is also the name of component ${twin}; names must be unique per spp_vf`);
    else names.set(c.name, i);
    if (!(COMPONENT_TYPES as readonly string[]).includes(c.type)) at(c, i, 'type', `${JSON.stringify(c.type)} is not one of ${COMPONENT_TYPES.join(', ')}`);
    if (bits) {
      if (c.core === bits.master) at(c, i, 'core', `${c.core} is the master core of core mask ${nic.core_mask}; a component there hangs spp_vf`);
      else if (!bits.occupied.includes(c.core))
        at(c, i, 'core', `${c.core} is not in core mask ${nic.core_mask} (worker cores ${bits.occupied.join(',') || 'none'})`);
    }
    for (const dir of ['rx', 'tx'] as const) {
      const field = `${dir}_port`;
      for (const port of dir === 'rx' ? c.rx_port : c.tx_port) {
        const m = PORT_RE.exec(port);
        if (!m) {
          at(c, i, field, `${JSON.stringify(port)} is not a port (phy:N, vhost:N or ring:N)`);
          continue;
        }
        const n = Number(m[2]);
        if (m[1] === 'phy' && port !== phy) at(c, i, field, `${port} is not this NIC's port ${phy}`);
        if (m[1] === 'vhost' && !own.has(n))
          at(c, i, field, `${port} is not a vhost of this NIC (its vhosts are ${vhostIds.join(',')}: numbered across the host, NIC after NIC)`);
        if (n > MAX_PORT_NUMBER) at(c, i, field, `${port}: spp_vf port numbers stop at ${MAX_PORT_NUMBER}`);
        const other = used[dir].get(port);
        if (other !== undefined) at(c, i, field, `${port} is already ${dir} of ${other}; spp_vf takes a port once per direction (bad value(port rxtx))`);
        else used[dir].set(port, c.name);
      }
    }
    countProblem(c, (field, what) => at(c, i, field, what));
  });
  const classifiers = decls.filter((c) => c.type === 'classifier_mac');
  if (classifiers.length !== 1) out.push(`${where}: field components: needs exactly one classifier_mac component, has ${classifiers.length}`);
  else if (classifiers[0]!.rx_port[0] !== phy)
    out.push(`${where}: component ${JSON.stringify(classifiers[0]!.name)} field rx_port: must be [${phy}] (the NIC)`);
  const mergers = decls.filter((c) => c.type === 'merge' && c.tx_port.includes(phy));
  if (mergers.length !== 1) out.push(`${where}: field components: needs exactly one merge component with tx_port [${phy}], has ${mergers.length}`);
  if (out.length > 0) return out;
  for (const v of vhostIds) reachProblems(decls, v, classifiers[0]!, mergers[0]!, format, where, out);
  out.push(...coreTypeProblems(decls, format, where, options));
  return out;
}

/** spp_vf's port counts per type (spec spp-ctl.md §7): more fails with `error occur` and wedges the component. */
function countProblem(c: ComponentDecl, at: (field: string, what: string) => void): void {
  if (c.type === 'forward') {
    if (c.rx_port.length !== 1) at('rx_port', `a forward takes exactly 1 rx port, has ${c.rx_port.length}`);
    if (c.tx_port.length !== 1) at('tx_port', `a forward takes exactly 1 tx port, has ${c.tx_port.length}`);
  } else if (c.type === 'merge') {
    if (c.rx_port.length < 1) at('rx_port', 'a merge needs at least 1 rx port');
    if (c.tx_port.length !== 1) at('tx_port', `a merge takes exactly 1 tx port, has ${c.tx_port.length}`);
  } else if (c.type === 'classifier_mac') {
    if (c.rx_port.length !== 1) at('rx_port', `a classifier_mac reads exactly 1 rx port, has ${c.rx_port.length}`);
    if (c.tx_port.length < 1) at('tx_port', 'a classifier_mac needs at least 1 tx port');
  }
}

/** vhost:v reached exactly once from the classifier (directly or through one forwarder) and back into the merger the same way. */
function reachProblems(
  decls: readonly ComponentDecl[],
  v: number,
  classifier: ComponentDecl,
  merger: ComponentDecl,
  format: ConfigFormat,
  where: string,
  out: string[],
): void {
  const vhost = portNames.vhost(v);
  const feeders = decls.filter((c) => c.tx_port.includes(vhost));
  const drains = decls.filter((c) => c.rx_port.includes(vhost));
  if (feeders.length === 0) out.push(`${where}: ${vhost}: no component has it in tx_port; the classifier must reach it (directly or through one forward)`);
  if (drains.length === 0) out.push(`${where}: ${vhost}: no component has it in rx_port; it must lead back into the merger (directly or through one forward)`);
  /** A vhost's neighbour that is not the classifier (merger) must be one forward whose other port the classifier (merger) uses. */
  const hop = (c: ComponentDecl | undefined, end: ComponentDecl, side: 'feeds' | 'drains'): void => {
    if (!c || c === end) return;
    const [field, ring, endPorts, role, needs] =
      side === 'feeds'
        ? (['rx_port', c.rx_port[0], end.tx_port, 'classifier', `rx must be a tx port of ${end.name}`] as const)
        : (['tx_port', c.tx_port[0], end.rx_port, 'merger', `tx must be an rx port of ${end.name}`] as const);
    const at = `${where}: component ${decls.indexOf(c)} (${JSON.stringify(c.name)}) field`;
    if (c.type !== 'forward') out.push(`${at} type: ${side} ${vhost}, so it must be the ${role} or a forward`);
    else if (ring === undefined || !endPorts.includes(ring)) out.push(`${at} ${field}: ${side} ${vhost}, so its ${needs}`);
  };
  const feeder = feeders[0];
  const drain = drains[0];
  hop(feeder, classifier, 'feeds');
  hop(drain, merger, 'drains');
  if (feeder && drain && out.length === 0) {
    const tg = vhostTargets(decls, v, format === 'final');
    if (typeof tg === 'string') out.push(`${where}: ${vhost}: ${tg}`);
  }
}

/** Cores hosting components of different types (after the final agent's forward-to-merge change), and two classifiers on one core. */
function coreTypeProblems(decls: readonly ComponentDecl[], format: ConfigFormat, where: string, options: LayoutRuleOptions): string[] {
  const out: string[] = [];
  const byCore = new Map<number, { name: string; type: ComponentType; declared: string }[]>();
  effectiveComponents(decls, format).forEach((c, i) => {
    byCore.set(c.core, [...(byCore.get(c.core) ?? []), { name: c.name, type: c.type, declared: decls[i]!.type }]);
  });
  for (const [core, comps] of byCore) {
    const types = new Set(comps.map((c) => c.type));
    const list = comps.map(
      (c) => `${c.name} (${c.type}${c.type !== c.declared ? `, declared ${c.declared}: the final agent starts a forward into a vhost as merge` : ''})`,
    );
    if (types.size > 1 && !options.mixedCoreTypes) {
      out.push(`${where}: core ${core} hosts ${list.join(', ')}; spp_vf before 18.08.2 refuses two component types on one core (bad value(component type))`);
    }
    if (comps.filter((c) => c.type === 'classifier_mac').length > 1) out.push(`${where}: core ${core} hosts two classifiers; spp_vf runs only one per core`);
  }
  return out;
}

/** Every NIC's declared layout checked; errors name the NIC, the component and the field. */
export function validateLayouts(config: HostConfiguration, format: ConfigFormat, label: (i: number) => string, options: LayoutRuleOptions = {}): string[] {
  const ranges = vhostRanges(config);
  return config.flatMap((nic, i) => declaredLayoutProblems(i, nic, ranges[i]!, format, label(i), options));
}

export interface CoreBudget {
  /** Worker cores of the mask (the master excluded). */
  readonly workers: readonly number[];
  /** Cores the layout's components run on. */
  readonly used: readonly number[];
  /** What the default layout costs: 2n+2. */
  readonly defaultCost: number;
}

/** Cores a NIC's layout uses out of its mask, beside what the default layout would need. */
export function coreBudget(coreMask: string, numVhost: number, components: readonly { readonly core: number }[]): CoreBudget {
  const bits = coreMaskBits(coreMask);
  return {
    workers: bits?.occupied ?? [],
    used: [...new Set(components.map((c) => c.core))].sort((a, b) => a - b),
    defaultCost: 2 * numVhost + 2,
  };
}

/**
 * The checks a stored configuration gets when it is read (agent, views):
 * real-spp-ctl limits and mixed-type cores only warn, since the set-up tool
 * enforced what the host's SPP takes and a reader cannot know its version.
 */
export function validateStored(config: HostConfiguration, format: ConfigFormat, label: (i: number) => string): Validation {
  const v = validateConfiguration(config, label, { beyondRealLimits: true });
  const layoutErrors = validateLayouts(config, format, label, { mixedCoreTypes: true });
  const mixed = validateLayouts(config, format, label).filter((e) => !layoutErrors.includes(e));
  return { errors: [...v.errors, ...layoutErrors], warnings: [...v.warnings, ...mixed] };
}
