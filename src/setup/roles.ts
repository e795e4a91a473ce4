/**
 * The etcd roles of networking-spp, least privilege: what the agent of one
 * host, the mechanism driver (neutron-server) and host set-up read and
 * write, derived from the key builders of src/protocol/keys.ts. Exact keys
 * are granted as single keys and ranges as prefixes ending in '/', so host
 * spp4's role does not reach spp40's keys. Pure: the I/O is in ./roles-apply.ts.
 */
import { keys, prefixes } from '../protocol/keys';
import { VIEW_PREFIX } from './view';

/** etcdctl's names of etcd's permission types. */
export type PermissionType = 'read' | 'write' | 'readwrite';

export interface Grant {
  readonly permission: PermissionType;
  readonly key: string;
  /** Every key starting with `key` (etcdctl --prefix=true); otherwise `key` alone. */
  readonly prefix: boolean;
  /** Who needs it for what: printed as a comment. */
  readonly why: string;
}

export interface RoleSpec {
  readonly name: string;
  readonly purpose: string;
  readonly grants: readonly Grant[];
}

const exact = (permission: PermissionType, key: string, why: string): Grant => ({ permission, key, prefix: false, why });
const under = (permission: PermissionType, key: string, why: string): Grant => ({ permission, key, prefix: true, why });

export const agentRoleName = (host: string): string => `spp-agent-${host}`;
export const DRIVER_ROLE = 'spp-driver';
export const SETUP_ROLE = 'spp-setup';

/** The agent of `host` (spp agent, or the original Python agent, which needs a subset). */
export function agentRole(host: string): RoleSpec {
  return {
    name: agentRoleName(host),
    purpose: `the agent of host ${host} (spp agent --host ${host}): its own host's keys and nothing else`,
    grants: [
      exact('read', keys.configuration(host), 'NIC layout it builds spp_vf from'),
      under('readwrite', prefixes.vhostOfHost(host), 'frees a vhost on unplug (compare-and-swap port id -> None)'),
      under('readwrite', prefixes.bindPortOfHost(host), 'reads the binding of a port; deletes it on unplug'),
      under('readwrite', prefixes.actionOfHost(host), 'watches plug/unplug; deletes the action on unplug'),
      under('readwrite', prefixes.portStatusOfHost(host), 'writes up or error; deletes it on unplug'),
      under('readwrite', prefixes.mirrorOfHost(host), "frees a tap flow's mirrors on its unplug (put None)"),
      under('readwrite', prefixes.tapInfoOfHost(host), "reads a tap flow's ports and mirrors; deletes it on unplug"),
      under('readwrite', prefixes.tapActionOfHost(host), 'watches tap plug/unplug; deletes it on unplug'),
      under('readwrite', prefixes.tapStatusOfHost(host), 'writes up or error; deletes it on unplug'),
      exact('readwrite', keys.agent(host), 'liveness key kept under a lease (extension)'),
      exact('readwrite', keys.agentLock(host), 'lease lock: one active agent per host (extension)'),
    ],
  };
}

/** neutron-server's SPP mechanism driver, ours (spp port bind|unbind|list) or the original. */
export function driverRole(): RoleSpec {
  return {
    name: DRIVER_ROLE,
    purpose: "neutron-server's SPP mechanism and TaaS service drivers (and spp port|tap commands)",
    grants: [
      under('read', prefixes.configuration, 'physical networks of every host'),
      under('read', prefixes.agent, 'agent liveness of every host (extension; not agent-lock/)'),
      under('readwrite', prefixes.vhost, 'claims a free vhost (compare-and-swap None -> port id), releases it when a bind fails'),
      under('readwrite', prefixes.bindPort, 'writes the binding of a port'),
      under('readwrite', prefixes.action, 'writes plug, then unplug'),
      under('read', prefixes.portStatus, 'waits for up'),
      // TaaS service driver (spp tap create|delete|list)
      under('readwrite', prefixes.mirror, 'claims free mirrors (compare-and-swap None -> tap flow id), gives a half-claimed BOTH back'),
      under('readwrite', prefixes.tapInfo, 'writes the ports and mirrors of a tap flow'),
      under('readwrite', prefixes.tapAction, 'writes plug, then unplug'),
      under('read', prefixes.tapStatus, 'waits for up'),
    ],
  };
}

/** Host set-up and operators: spp config build|destroy|show, spp status. */
export function setupRole(): RoleSpec {
  return {
    name: SETUP_ROLE,
    purpose: 'host set-up: spp config build|destroy|show and spp status, for every host',
    grants: [
      under('read', VIEW_PREFIX, 'status and config show read the whole tree, config destroy checks it for bound ports'),
      under('readwrite', prefixes.configuration, 'config build writes configuration/<host>; destroy deletes it'),
      under('readwrite', prefixes.vhost, 'config build creates free vhosts and deletes unused ones'),
      under('write', prefixes.bindPort, "config destroy deletes a host's port keys"),
      under('write', prefixes.action, "config destroy deletes a host's port keys"),
      under('write', prefixes.portStatus, "config destroy deletes a host's port keys"),
      under('readwrite', prefixes.mirror, 'config build --mirrors creates free mirror keys and deletes unused ones; destroy deletes them'),
    ],
  };
}

/** A word as the shell reads it back: quoted when it holds anything but safe characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface UserSpec {
  readonly name: string;
  readonly role: string;
}

/**
 * The etcdctl commands that create the roles (and the user) on an etcd that
 * has none of them yet; `spp etcd roles --apply` also updates existing ones.
 */
export function etcdctlScript(roles: readonly RoleSpec[], user?: UserSpec): string {
  const lines = [
    '# Paste into a shell where etcdctl (v3 API) reaches etcd as an admin: set',
    '# ETCDCTL_ENDPOINTS (and ETCDCTL_CACERT for TLS); with auth on, ETCDCTL_USER=root',
    '# makes etcdctl ask for the password.',
  ];
  for (const role of roles) {
    lines.push('', `# ${role.name}: ${role.purpose}`, `etcdctl role add ${shellWord(role.name)}`);
    for (const g of role.grants) {
      lines.push(`# ${g.why}`);
      lines.push(`etcdctl role grant-permission ${g.prefix ? '--prefix=true ' : ''}${shellWord(role.name)} ${g.permission} ${shellWord(g.key)}`);
    }
  }
  if (user) {
    lines.push('', `# user ${user.name} with role ${user.role}; etcdctl prompts for the password (keep it off the command line)`);
    lines.push(`etcdctl user add ${shellWord(user.name)}`, `etcdctl user grant-role ${shellWord(user.name)} ${shellWord(user.role)}`);
  }
  return `${lines.join('\n')}\n`;
}
