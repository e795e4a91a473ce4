/**
 * Host removal (`spp config destroy`): deletes configuration/<host> and every
 * key under the host's vhost, bind_port, action, port_status and mirror
 * prefixes, refusing while ports are bound or mirrors claimed unless forced.
 */
import type { Etcd3 } from 'etcd3';
import { FREE_MIRROR, FREE_VHOST } from '../protocol/codecs';
import { keys, parseKey, prefixes, ROOT } from '../protocol/keys';
import { SetupConflict, SetupRefused } from './errors';
import { type KeyState, modRevisionOf, readSnapshot } from './snapshot';
import { commitGuarded, type Guard, type WriteOp } from './txn';

export interface DestroyOptions {
  /** Remove the host even with bound ports (their VMs lose their vhost bookkeeping). */
  readonly force?: boolean;
  readonly attempts?: number;
}

export interface DestroyPlan {
  /** One line per bound port or claimed mirror, naming its keys; refused unless forced. */
  readonly boundPorts: string[];
  readonly guards: Guard[];
  readonly ops: WriteOp[];
  /** Every key the plan deletes, sorted. */
  readonly deleted: string[];
}

export interface DestroyResult {
  readonly host: string;
  readonly deleted: string[];
  /** Bound ports removed because of `force`. */
  readonly forcedPorts: string[];
}

/** The prefixes whose keys belong to a host's set-up and ports (the agent liveness key is not among them). */
export function hostSetupPrefixes(host: string): string[] {
  // each ends in '/': host spp4 never reaches spp40's keys (upstream's mirror/<host> without it does)
  return [prefixes.vhostOfHost(host), prefixes.bindPortOfHost(host), prefixes.actionOfHost(host), prefixes.portStatusOfHost(host), prefixes.mirrorOfHost(host)];
}

/** Pure: what destroying `host` deletes and which bound ports stand in the way. */
export function planDestroy(host: string, current: Readonly<Record<string, KeyState>>): DestroyPlan {
  const configKey = keys.configuration(host);
  const hostPrefixes = hostSetupPrefixes(host);
  const deleted = Object.keys(current)
    .filter((k) => k === configKey || hostPrefixes.some((p) => k.startsWith(p)))
    .sort();
  const byPort = new Map<string, string[]>();
  const note = (portId: string, what: string): void => {
    byPort.set(portId, [...(byPort.get(portId) ?? []), what]);
  };
  for (const key of deleted) {
    const parsed = parseKey(key);
    const value = current[key]!.value;
    if (parsed?.kind === 'vhost' && value !== FREE_VHOST) note(value, `claims ${key}`);
    else if (parsed?.kind === 'bind_port') note(parsed.portId, `has ${key}`);
    else if (parsed?.kind === 'action') note(parsed.portId, `has ${key} = ${value}`);
  }
  const claimedMirrors = deleted.flatMap((key) => {
    const value = current[key]!.value;
    return parseKey(key)?.kind === 'mirror' && value !== FREE_MIRROR ? [`tap flow ${value} claims ${key}`] : [];
  });
  const boundPorts = [
    ...[...byPort.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([port, what]) => `port ${port} ${what.join(', ')}`),
    ...claimedMirrors,
  ];
  // A new bind needs a vhost claim first, and a tap flow a mirror claim, so
  // guarding those keys (and the configuration) catches a port bound or a
  // mirror claimed between the read and the delete.
  const claimable = [prefixes.vhostOfHost(host), prefixes.mirrorOfHost(host)];
  const guards: Guard[] = [
    { key: configKey, modRevision: modRevisionOf(current, configKey) },
    ...deleted.filter((k) => claimable.some((p) => k.startsWith(p))).map((key) => ({ key, modRevision: modRevisionOf(current, key) })),
  ];
  const ops: WriteOp[] =
    deleted.length === 0 ? [] : [{ kind: 'delete', key: configKey }, ...hostPrefixes.map((prefix): WriteOp => ({ kind: 'deletePrefix', prefix }))];
  return { boundPorts, guards, ops, deleted };
}

/** Deletes every set-up and port key of `host` in one guarded transaction. Throws SetupRefused while ports are bound. */
export async function destroyHost(client: Etcd3, host: string, options: DestroyOptions = {}): Promise<DestroyResult> {
  keys.configuration(host); // rejects a host name that cannot be a key segment before any read
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const snapshot = await readSnapshot(client, ROOT);
    const plan = planDestroy(host, snapshot.keys);
    if (plan.boundPorts.length > 0 && !options.force) {
      const taps = plan.boundPorts.some((b) => b.startsWith('tap flow '));
      const why = taps ? 'ports are bound or mirrors claimed (unbind them and delete the tap flows first' : 'ports are bound (unbind them first';
      throw new SetupRefused(`refusing to destroy host ${host}: ${why}, or use --force)`, plan.boundPorts);
    }
    if (await commitGuarded(client, plan.guards, plan.ops)) {
      return { host, deleted: plan.deleted, forcedPorts: options.force ? plan.boundPorts : [] };
    }
  }
  throw new SetupConflict(`destroy of host ${host}`, attempts);
}
