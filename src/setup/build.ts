/**
 * Host set-up (`spp config build`): writes configuration/<host> and one free
 * vhost key per vhost, without ever resetting a vhost a port has claimed
 * (the original spp-config-build does reset them).
 */
import type { Etcd3 } from 'etcd3';
import { decodeJson, decodeValue, FREE_MIRROR, FREE_VHOST, type NicConfig } from '../protocol/codecs';
import {
  type ComponentDecl,
  type ConfigFormat,
  type ConfigurationDoc,
  ConfigurationValue,
  encodeConfiguration,
  type HostConfiguration,
  type MirrorDecl,
} from '../protocol/configuration';
import { keys, parseKey, prefixes } from '../protocol/keys';
import { hostLayout, withDefaultComponents } from '../protocol/layout';
import { validateLayouts } from '../protocol/layout-rules';
import { validateConfiguration } from '../protocol/mappings';
import { chooseFormat } from './config-format';
import { SetupConflict, SetupRefused } from './errors';
import { type MirrorRequest, mirrorDecls } from './mirrors';
import { type KeyState, modRevisionOf, readSnapshot, snapshotValues } from './snapshot';
import { commitGuarded, type Guard, type WriteOp } from './txn';

export interface BuildOptions {
  /** Drop or move claimed vhosts anyway (their ports stay bound to a vhost that is gone or free). */
  readonly force?: boolean;
  /** Limits of the real spp-ctl/spp_vf become warnings (emulator, scale tests). */
  readonly beyondRealLimits?: boolean;
  /** Attempts when another writer changes a guarded key meanwhile. */
  readonly attempts?: number;
  /**
   * The shape to write. `auto` keeps to the shape the other hosts in etcd
   * use (chooseFormat); the CLI's default. Library callers that say nothing
   * get the c33920f array, which the agent and every existing peer read.
   */
  readonly format?: ConfigFormat | 'auto';
  /** Declared spp_vf layouts (--components), one entry per NIC in mapping order; final shape only. */
  readonly declared?: DeclaredLayouts;
  /** The target spp_vf takes two component types on one core (SPP 18.08.2 and later). */
  readonly mixedCoreTypes?: boolean;
  /** Plan only: nothing is written. */
  readonly dryRun?: boolean;
  /** SPP_MIRROR (--mirrors): the spp_mirror components to declare; final shape only. */
  readonly mirrors?: MirrorRequest;
}

/** SPP_COMPONENT_CONF: the components of each NIC, and optionally the spp_mirror list. */
export interface DeclaredLayouts {
  readonly vf: readonly (readonly ComponentDecl[])[];
  readonly mirror?: readonly MirrorDecl[];
}

export interface VhostSlot {
  readonly key: string;
  readonly phys: string;
  readonly vhostId: number;
}

export interface BuildPlan {
  /** Reasons to refuse; empty when the plan may be applied. */
  readonly refusals: string[];
  readonly warnings: string[];
  readonly guards: Guard[];
  readonly ops: WriteOp[];
  readonly configurationChanged: boolean;
  /** The configuration value the host gets (written only when it differs from etcd's). */
  readonly value: string;
  readonly created: string[];
  readonly deleted: string[];
  /** Claimed vhosts left as they are. */
  readonly keptClaims: { readonly key: string; readonly portId: string }[];
  /** Claimed vhosts removed because of `force`. */
  readonly forced: { readonly key: string; readonly portId: string }[];
  /** Claimed mirror keys left as they are (TaaS). */
  readonly keptMirrors: { readonly key: string; readonly tapFlowId: string }[];
  /** The spp_mirror components the configuration declares (empty for none). */
  readonly mirror: readonly MirrorDecl[];
}

export interface BuildResult extends Omit<BuildPlan, 'refusals' | 'guards' | 'ops'> {
  readonly host: string;
  /** False when etcd already held exactly this set-up (or, with dryRun, would hold it). */
  readonly changed: boolean;
  readonly format: ConfigFormat;
  /** Why this shape, for the operator. */
  readonly formatReason: string;
  /** The configuration value written (or that would be). */
  readonly value: string;
  readonly dryRun: boolean;
  /** With dryRun, the keys that would be put or deleted. */
  readonly wouldWrite: readonly string[];
}

/** The vhost keys a configuration asks for: ids numbered across the host, NIC after NIC. */
export function vhostSlots(host: string, configuration: readonly NicConfig[]): VhostSlot[] {
  const slots: VhostSlot[] = [];
  let next = 0;
  for (const nic of configuration) {
    for (let k = 0; k < nic.num_vhost; k++, next++) {
      slots.push({ key: keys.vhost(host, nic.physical_network, next), phys: nic.physical_network, vhostId: next });
    }
  }
  return slots;
}

/** The c33920f array as the original writes it (Python json.dumps formatting, fixed field order). */
export function configurationValue(configuration: readonly NicConfig[]): string {
  return encodeConfiguration({ format: 'legacy', vf: [...configuration] });
}

function sameJson(raw: string | undefined, wanted: string): boolean {
  if (raw === undefined) return false;
  try {
    return canonical(JSON.parse(raw)) === canonical(JSON.parse(wanted));
  } catch {
    return false;
  }
}

/** JSON with sorted object keys, so key order and spacing do not count as a change. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Decides what to write from what etcd holds now. Pure: the same inputs give
 * the same plan, and every write is guarded by the mod revision it was
 * decided on.
 */
export function planBuild(
  host: string,
  doc: ConfigurationDoc,
  current: Readonly<Record<string, KeyState>>,
  options: Pick<BuildOptions, 'force'> = {},
): BuildPlan {
  const configuration = doc.vf;
  const plan: { -readonly [K in keyof BuildPlan]: BuildPlan[K] } = {
    refusals: [],
    warnings: [],
    guards: [],
    ops: [],
    configurationChanged: false,
    value: '',
    created: [],
    deleted: [],
    keptClaims: [],
    forced: [],
    keptMirrors: [],
    mirror: [],
  };
  const guard = (key: string): void => {
    plan.guards.push({ key, modRevision: modRevisionOf(current, key) });
  };
  const configKey = keys.configuration(host);
  const kept = keptMirror(doc, current[configKey]?.value);
  if (kept.drop) {
    const why = `${configKey} has a "mirror" list (spp_mirror, TaaS) that the c33920f array cannot hold`;
    if (!options.force) plan.refusals.push(`${why}; write the final shape (--config-format final) or use --force to drop it`);
    else plan.warnings.push(`${why}; dropped because of --force`);
  }
  plan.warnings.push(...layoutChanges(configKey, current[configKey]?.value, kept.doc));
  const value = encodeConfiguration(kept.doc);
  plan.value = value;
  plan.mirror = kept.doc.mirror ?? [];
  if (!sameJson(current[configKey]?.value, value)) {
    guard(configKey);
    plan.ops.push({ kind: 'put', key: configKey, value });
    plan.configurationChanged = true;
  }

  const wanted = vhostSlots(host, configuration);
  const wantedKeys = new Set(wanted.map((s) => s.key));
  const physOfId = new Map(wanted.map((s) => [s.vhostId, s.phys]));
  const vhostPrefix = prefixes.vhostOfHost(host);
  for (const key of Object.keys(current).sort()) {
    if (!key.startsWith(vhostPrefix)) continue;
    const parsed = parseKey(key);
    if (parsed?.kind !== 'vhost') {
      plan.warnings.push(`${key} is not a vhost key (${vhostPrefix}<physical_network>/<vhost_id>); left as it is`);
      continue;
    }
    const owner = current[key]!.value;
    const claimed = owner !== FREE_VHOST;
    if (wantedKeys.has(key)) {
      if (claimed) plan.keptClaims.push({ key, portId: owner });
      continue;
    }
    if (claimed) {
      const newPhys = physOfId.get(parsed.vhostId);
      const why =
        newPhys === undefined
          ? `the new configuration has no vhost ${parsed.vhostId}`
          : `the new configuration puts vhost ${parsed.vhostId} under physical network ${newPhys}`;
      if (!options.force) {
        plan.refusals.push(`${key} is claimed by port ${owner}; ${why}`);
        continue;
      }
      plan.forced.push({ key, portId: owner });
      plan.warnings.push(`${key} was claimed by port ${owner}; removed because of --force (${why}); unbind that port`);
    }
    guard(key);
    plan.ops.push({ kind: 'delete', key });
    plan.deleted.push(key);
  }
  for (const slot of wanted) {
    if (current[slot.key] !== undefined) continue;
    guard(slot.key);
    plan.ops.push({ kind: 'put', key: slot.key, value: FREE_VHOST });
    plan.created.push(slot.key);
  }
  planMirrorKeys(host, kept, current, options, plan, guard);
  return plan;
}

/**
 * mirror/<host>/<i> = None for each declared mirror; a claimed key keeps its
 * tap flow (upstream resets it), and one the new list drops is refused unless
 * forced. Keys written by hand for a configuration without a mirror list are
 * not ours to judge: left alone.
 */
function planMirrorKeys(
  host: string,
  kept: { doc: ConfigurationDoc; drop: boolean },
  current: Readonly<Record<string, KeyState>>,
  options: Pick<BuildOptions, 'force'>,
  plan: Pick<BuildPlan, 'refusals' | 'warnings' | 'ops' | 'created' | 'deleted' | 'keptMirrors'>,
  guard: (key: string) => void,
): void {
  const prefix = prefixes.mirrorOfHost(host);
  const present = Object.keys(current)
    .filter((k) => k.startsWith(prefix))
    .sort();
  if (!kept.doc.mirror && !kept.drop) {
    if (present.length > 0) plan.warnings.push(`${prefix} has ${present.length} key(s) but the configuration declares no mirror list; left as they are`);
    return;
  }
  const count = kept.doc.mirror?.length ?? 0;
  for (const key of present) {
    const parsed = parseKey(key);
    if (parsed?.kind !== 'mirror') {
      plan.warnings.push(`${key} is not a mirror key (${prefix}<mirror_id>); left as it is`);
      continue;
    }
    const owner = current[key]!.value;
    const claimed = owner !== FREE_MIRROR;
    if (parsed.mirrorId < count) {
      if (claimed) plan.keptMirrors.push({ key, tapFlowId: owner });
      continue;
    }
    if (claimed) {
      const why = `the new configuration has ${count} mirror(s), no mirror ${parsed.mirrorId}`;
      if (!options.force) {
        plan.refusals.push(`${key} is claimed by tap flow ${owner}; ${why}`);
        continue;
      }
      plan.warnings.push(`${key} was claimed by tap flow ${owner}; removed because of --force (${why}); delete that tap flow`);
    }
    guard(key);
    plan.ops.push({ kind: 'delete', key });
    plan.deleted.push(key);
  }
  for (let i = 0; i < count; i++) {
    const key = keys.mirror(host, i);
    if (current[key] !== undefined) continue;
    guard(key);
    plan.ops.push({ kind: 'put', key, value: FREE_MIRROR });
    plan.created.push(key);
  }
}

/**
 * NICs whose spp_vf layout the new value changes. The agent adds what a
 * running spp_vf lacks but never stops or moves what runs, so a new layout
 * takes effect when that spp_vf restarts (docs/host-setup.md).
 */
function layoutChanges(configKey: string, raw: string | undefined, doc: ConfigurationDoc): string[] {
  if (raw === undefined) return [];
  const old = decodeJson(ConfigurationValue, configKey, raw);
  if (!old.ok) return [];
  const layoutOf = (d: ConfigurationDoc): string[] => hostLayout(d.vf, d.format).map((n) => JSON.stringify(n.components));
  let before: string[];
  try {
    before = layoutOf(old.value);
  } catch {
    return [];
  }
  const after = layoutOf(doc);
  return after.flatMap((a, i) =>
    before[i] !== undefined && before[i] !== a
      ? [
          `NIC ${i}: its spp_vf layout changes (components, cores or types); restart spp_vf ${i + 1} after this, and the agent builds the new layout and plugs its ports again`,
        ]
      : [],
  );
}

/**
 * The mirror list etcd holds is kept when the new value declares none: the
 * set-up of the vfs must not undo the set-up of TaaS. The array cannot hold
 * it, so writing it would `drop` it.
 */
function keptMirror(doc: ConfigurationDoc, raw: string | undefined): { doc: ConfigurationDoc; drop: boolean } {
  if (doc.mirror || raw === undefined) return { doc, drop: false };
  const old = decodeJson(ConfigurationValue, 'configuration', raw);
  const mirror = old.ok ? old.value.mirror : undefined;
  if (!mirror) return { doc, drop: false };
  return doc.format === 'final' ? { doc: { ...doc, mirror }, drop: false } : { doc, drop: true };
}

/**
 * Writes the set-up of `host` in one guarded transaction, re-reading and
 * re-planning when another writer (a driver claiming a vhost) got in between.
 * Throws SetupRefused for an invalid configuration or a claimed vhost that
 * would be dropped or moved (without `force`).
 */
export async function buildHost(client: Etcd3, host: string, configuration: HostConfiguration, options: BuildOptions = {}): Promise<BuildResult> {
  const configKey = keys.configuration(host);
  const decoded = decodeValue(ConfigurationValue, configKey, configuration);
  if (!decoded.ok) throw new SetupRefused(`invalid configuration for host ${host}`, [decoded.error]);
  const declared = options.declared;
  if (declared && declared.vf.length !== configuration.length) {
    throw new SetupRefused(`invalid configuration for host ${host}`, [
      `the declared layouts list ${declared.vf.length} NIC(s) (field vf), the mappings ${configuration.length}: one components list per NIC, in mapping order`,
    ]);
  }
  const nics: HostConfiguration = decoded.value.vf.map((n, i) => (declared ? { ...n, components: [...declared.vf[i]!] } : n));

  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [configs, vhosts, mirrors] = await Promise.all([
      readSnapshot(client, prefixes.configuration),
      readSnapshot(client, prefixes.vhostOfHost(host)),
      readSnapshot(client, prefixes.mirrorOfHost(host)),
    ]);
    const choice =
      options.format === 'auto' || options.format === undefined
        ? chooseFormat(host, snapshotValues(configs), undefined)
        : chooseFormat(host, {}, options.format);
    const format = options.format === undefined ? 'legacy' : choice.format;
    const doc = checked(host, nics, format, declared, options);
    const current: Record<string, KeyState> = { ...vhosts.keys, ...mirrors.keys };
    const own = configs.keys[configKey];
    if (own) current[configKey] = own;
    const plan = planBuild(host, doc, current, options);
    if (choice.warning && options.format === 'auto') plan.warnings.push(choice.warning);
    if (plan.refusals.length > 0) {
      throw new SetupRefused(`refusing to change the set-up of host ${host} (use --force to override)`, plan.refusals);
    }
    const formatReason = options.format === undefined ? 'the c33920f array (library default)' : choice.reason;
    const { refusals: _r, guards: _g, ops, ...rest } = plan;
    const result = { host, changed: ops.length > 0, ...rest, format, formatReason, dryRun: options.dryRun === true, wouldWrite: [] as string[] };
    if (options.dryRun) return { ...result, wouldWrite: ops.map((o) => (o.kind === 'deletePrefix' ? `deletePrefix ${o.prefix}` : `${o.kind} ${o.key}`)) };
    if (await commitGuarded(client, plan.guards, plan.ops)) return result;
  }
  throw new SetupConflict(`set-up of host ${host}`, attempts);
}

/** The value to write for `format`, or SetupRefused listing every problem (naming NIC, component and field). */
function checked(host: string, nics: HostConfiguration, format: ConfigFormat, declared: DeclaredLayouts | undefined, options: BuildOptions): ConfigurationDoc {
  const label = (i: number): string => `NIC ${i} (${nics[i]?.pci_address ?? '?'})`;
  const semantic = validateConfiguration(nics, label, { beyondRealLimits: options.beyondRealLimits ?? false });
  const layout = validateLayouts(nics, format, label, { mixedCoreTypes: options.mixedCoreTypes ?? false });
  const errors = [...semantic.errors, ...layout];
  if (declared && format === 'legacy') {
    errors.push('declared layouts (--components) need the final shape: the c33920f array has no "components", and its agent builds only the default layout');
  }
  if (options.mirrors && format === 'legacy') errors.push('mirrors (--mirrors) need the final shape: the c33920f array has no "mirror" list');
  if (options.mirrors && declared?.mirror) errors.push('mirrors are declared twice: by --mirrors and by the "mirror" list of --components; give one');
  const mirrors = options.mirrors && format === 'final' ? mirrorDecls(options.mirrors, nics) : undefined;
  if (mirrors) errors.push(...mirrors.errors);
  if (errors.length > 0) throw new SetupRefused(`invalid configuration for host ${host}`, errors);
  const mirror = mirrors?.decls ?? (declared?.mirror ? [...declared.mirror] : undefined);
  return format === 'final' ? { format, vf: withDefaultComponents(nics), ...(mirror ? { mirror } : {}) } : { format, vf: nics };
}
