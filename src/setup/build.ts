/**
 * Host set-up (`spp config build`): writes configuration/<host> and one free
 * vhost key per vhost, without ever resetting a vhost a port has claimed
 * (the original spp-config-build does reset them).
 */
import type { Etcd3 } from 'etcd3';
import { decodeValue, FREE_VHOST, HostConfiguration, type NicConfig, pythonJson } from '../protocol/codecs';
import { keys, parseKey, prefixes } from '../protocol/keys';
import { validateConfiguration } from '../protocol/mappings';
import { SetupConflict, SetupRefused } from './errors';
import { type KeyState, modRevisionOf, readSnapshot } from './snapshot';
import { commitGuarded, type Guard, type WriteOp } from './txn';

export interface BuildOptions {
  /** Drop or move claimed vhosts anyway (their ports stay bound to a vhost that is gone or free). */
  readonly force?: boolean;
  /** Limits of the real spp-ctl/spp_vf become warnings (emulator, scale tests). */
  readonly beyondRealLimits?: boolean;
  /** Attempts when another writer changes a guarded key meanwhile. */
  readonly attempts?: number;
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
  readonly created: string[];
  readonly deleted: string[];
  /** Claimed vhosts left as they are. */
  readonly keptClaims: { readonly key: string; readonly portId: string }[];
  /** Claimed vhosts removed because of `force`. */
  readonly forced: { readonly key: string; readonly portId: string }[];
}

export interface BuildResult extends Omit<BuildPlan, 'refusals' | 'guards' | 'ops'> {
  readonly host: string;
  /** False when etcd already held exactly this set-up. */
  readonly changed: boolean;
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

/** The configuration value as the original writes it (Python json.dumps formatting, fixed field order). */
export function configurationValue(configuration: readonly NicConfig[]): string {
  return pythonJson(
    configuration.map((n) => ({
      pci_address: n.pci_address,
      physical_network: n.physical_network,
      num_vhost: n.num_vhost,
      core_mask: n.core_mask,
    })),
  );
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
  configuration: readonly NicConfig[],
  current: Readonly<Record<string, KeyState>>,
  options: Pick<BuildOptions, 'force'> = {},
): BuildPlan {
  const plan: { -readonly [K in keyof BuildPlan]: BuildPlan[K] } = {
    refusals: [],
    warnings: [],
    guards: [],
    ops: [],
    configurationChanged: false,
    created: [],
    deleted: [],
    keptClaims: [],
    forced: [],
  };
  const guard = (key: string): void => {
    plan.guards.push({ key, modRevision: modRevisionOf(current, key) });
  };
  const configKey = keys.configuration(host);
  const value = configurationValue(configuration);
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
  return plan;
}

/**
 * Writes the set-up of `host` in one guarded transaction, re-reading and
 * re-planning when another writer (a driver claiming a vhost) got in between.
 * Throws SetupRefused for an invalid configuration or a claimed vhost that
 * would be dropped or moved (without `force`).
 */
export async function buildHost(client: Etcd3, host: string, configuration: HostConfiguration, options: BuildOptions = {}): Promise<BuildResult> {
  const configKey = keys.configuration(host);
  const decoded = decodeValue(HostConfiguration, configKey, configuration);
  if (!decoded.ok) throw new SetupRefused(`invalid configuration for host ${host}`, [decoded.error]);
  const label = (i: number): string => `NIC ${i} (${configuration[i]?.pci_address ?? '?'})`;
  const semantic = validateConfiguration(decoded.value, label, { beyondRealLimits: options.beyondRealLimits ?? false });
  if (semantic.errors.length > 0) throw new SetupRefused(`invalid configuration for host ${host}`, semantic.errors);

  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [config, vhosts] = await Promise.all([client.get(configKey).exec(), readSnapshot(client, prefixes.vhostOfHost(host))]);
    const current: Record<string, KeyState> = { ...vhosts.keys };
    const kv = config.kvs[0];
    if (kv) current[configKey] = { value: kv.value.toString(), modRevision: String(kv.mod_revision) };
    const plan = planBuild(host, decoded.value, current, options);
    if (plan.refusals.length > 0) {
      throw new SetupRefused(`refusing to change the set-up of host ${host} (use --force to override)`, plan.refusals);
    }
    if (await commitGuarded(client, plan.guards, plan.ops)) {
      const { refusals: _r, guards: _g, ops, ...rest } = plan;
      return { host, changed: ops.length > 0, ...rest };
    }
  }
  throw new SetupConflict(`set-up of host ${host}`, attempts);
}
