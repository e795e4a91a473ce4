/**
 * Creates or updates the roles of ./roles.ts through etcd's auth API,
 * idempotently: a second run changes nothing, and a grant the role should
 * not have (left by an older version or by hand) is revoked.
 */
import { type Etcd3, EtcdRoleExistsError, EtcdUserExistsError, type IPermissionResult, Range } from 'etcd3';
import type { Grant, PermissionType, RoleSpec } from './roles';

/** etcd3's names of the permission types. */
const ETCD3_PERMISSION = { read: 'Read', write: 'Write', readwrite: 'Readwrite' } as const;
const FROM_ETCD3: Record<string, PermissionType> = { Read: 'read', Write: 'write', Readwrite: 'readwrite' };

export interface RoleChange {
  readonly role: string;
  readonly created: boolean;
  /** One line per grant added or changed, etcdctl-like: `readwrite --prefix /spp/openstack/vhost/spp4/`. */
  readonly granted: readonly string[];
  readonly revoked: readonly string[];
}

export interface UserChange {
  readonly user: string;
  readonly role: string;
  readonly created: boolean;
  readonly passwordChanged: boolean;
  readonly roleGranted: boolean;
  /** Roles the user has besides `role`; reported, not removed (root may be one on purpose). */
  readonly otherRoles: readonly string[];
}

function rangeOf(g: Grant): Range {
  return g.prefix ? Range.prefix(g.key) : new Range(g.key);
}

const rangeId = (r: Range): string => `${r.start.toString('hex')}:${r.end.toString('hex')}`;

/** A range as an operator reads it: the key, with --prefix when it is one key's prefix range. */
export function describeRange(r: Range): string {
  if (r.end.length === 0) return r.start.toString();
  if (rangeId(Range.prefix(r.start)) === rangeId(r)) return `--prefix ${r.start.toString()}`;
  return `${r.start.toString()} .. ${r.end.toString()}`;
}

/** Pure: what to grant and revoke so that `current` becomes `spec`'s grants. */
export function planRole(spec: RoleSpec, current: readonly IPermissionResult[]): { grant: Grant[]; revoke: IPermissionResult[] } {
  const wanted = new Map(spec.grants.map((g) => [rangeId(rangeOf(g)), g]));
  const have = new Map(current.map((p) => [rangeId(p.range), p]));
  return {
    // etcd keeps one permission per range: granting another type replaces it.
    grant: spec.grants.filter((g) => FROM_ETCD3[have.get(rangeId(rangeOf(g)))?.permission ?? ''] !== g.permission),
    revoke: current.filter((p) => !wanted.has(rangeId(p.range))),
  };
}

export async function applyRole(client: Etcd3, spec: RoleSpec): Promise<RoleChange> {
  const role = client.role(spec.name);
  let created = true;
  try {
    await role.create();
  } catch (err) {
    if (!(err instanceof EtcdRoleExistsError)) throw err;
    created = false;
  }
  const plan = planRole(spec, await role.permissions());
  // One call each: etcd3's array form of revoke() grants instead.
  for (const p of plan.revoke) await role.revoke({ permission: p.permission, range: p.range });
  for (const g of plan.grant) await role.grant({ permission: ETCD3_PERMISSION[g.permission], range: rangeOf(g) });
  return {
    role: spec.name,
    created,
    granted: plan.grant.map((g) => `${g.permission} ${describeRange(rangeOf(g))}`),
    revoked: plan.revoke.map((p) => `${FROM_ETCD3[p.permission] ?? p.permission} ${describeRange(p.range)}`),
  };
}

/** Creates `name` (or sets its password if it differs) and grants it `roleName`. */
export async function applyUser(client: Etcd3, name: string, password: string, roleName: string): Promise<UserChange> {
  const user = client.user(name);
  let created = true;
  let passwordChanged = true;
  try {
    await user.create(password);
  } catch (err) {
    if (!(err instanceof EtcdUserExistsError)) throw err;
    created = false;
    // A login that works means the password is already this one: leave it.
    const same = await client.auth.authenticate({ name, password }).then(
      () => true,
      () => false,
    );
    if (same) passwordChanged = false;
    else await user.setPassword(password);
  }
  const roles = (await user.roles()).map((r) => r.name);
  const roleGranted = !roles.includes(roleName);
  if (roleGranted) await user.addRole(roleName);
  return { user: name, role: roleName, created, passwordChanged, roleGranted, otherRoles: roles.filter((r) => r !== roleName) };
}
