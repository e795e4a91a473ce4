import { readSecretFile } from '../../etcd/connect-settings';
import { agentRole, driverRole, etcdctlScript, type RoleSpec, setupRole } from '../../setup/roles';
import { applyRole, applyUser } from '../../setup/roles-apply';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, checkHost, choice, formatOption, str, UsageError } from '../framework';
import { withEtcdClient } from './etcd-session';

/** Creating roles is a few dozen small writes; more than the default budget on a slow cluster. */
const APPLY_BUDGET_MS = 20_000;

function selectedRoles(values: Record<string, unknown>): RoleSpec[] {
  const hosts = (values.host as string[] | undefined) ?? [];
  const roles: RoleSpec[] = [];
  for (const host of hosts) {
    checkHost(host);
    roles.push(agentRole(host));
  }
  if (values.driver === true) roles.push(driverRole());
  if (values.setup === true) roles.push(setupRole());
  if (roles.length === 0) throw new UsageError('choose the roles: --host HOST (an agent), --driver (neutron-server) and/or --setup (host set-up)');
  return roles;
}

export const etcdRolesCommand: CliCommand = {
  path: ['etcd', 'roles'],
  summary: 'print (or --apply) the least-privilege etcd roles of the agent of a host, the driver and host set-up',
  description: [
    'Roles (each the least set of grants that works, from the protocol keys):',
    '  --host H   spp-agent-H: read configuration/H; readwrite vhost/H/, bind_port/H/,',
    '             action/H/, port_status/H/ (prefixes) and agent/H, agent-lock/H (keys).',
    '             Also enough for the original Python agent of H.',
    '  --driver   spp-driver: read configuration/, agent/, port_status/, tap_status/; readwrite',
    '             vhost/, bind_port/, action/, mirror/, tap_info/, tap_action/ (every host).',
    '             Also enough for the original mechanism and TaaS service drivers.',
    '  --setup    spp-setup: read all of /spp/; readwrite configuration/, vhost/; write',
    '             bind_port/, action/, port_status/ (config build|destroy|show, status).',
    'Keys are under /spp/openstack/. Prefixes end in /, so spp4 does not reach spp40.',
    '',
    'Without --apply it prints etcdctl commands (--format text, pasteable) or the roles',
    "as JSON. --apply creates or updates them through etcd's auth API, connected as an",
    'admin (root) with the --etcd-* options: a second run changes nothing, a grant a role',
    'should not have is revoked. With --user NAME (one role only) it also creates the user,',
    'or sets its password when it differs, and grants it the role; the password comes',
    'from --password-file, never from the command line.',
    '',
    'examples:',
    '  spp etcd roles --host spp4 --driver --setup',
    '  SPP_ETCD_USER=root SPP_ETCD_PASSWORD_FILE=/root/etcd-root.pw \\',
    '    spp etcd roles --host spp4 --apply --user agent-spp4 --password-file /root/agent-spp4.pw',
    '',
    'exit status: 0 printed or applied, 1 etcd error (unreachable, not an admin), 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', multiple: true, arg: 'HOST', help: 'the role of the agent of HOST (repeatable)' },
    driver: { type: 'boolean', help: "the role of neutron-server's mechanism driver" },
    setup: { type: 'boolean', help: 'the role of host set-up (spp config ..., spp status)' },
    apply: { type: 'boolean', help: 'create or update the roles in etcd (as an admin: see --etcd-user)' },
    user: { type: 'string', arg: 'NAME', help: 'also create etcd user NAME with the (single) selected role' },
    'password-file': { type: 'string', arg: 'FILE', help: "the new user's password (first line of FILE); needed with --user --apply" },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const roles = selectedRoles(values);
    const format = choice(values, 'format', ['text', 'json'] as const);
    const userName = str(values, 'user');
    const passwordFile = str(values, 'password-file');
    if (userName !== undefined && roles.length !== 1)
      throw new UsageError(`--user grants one role: select exactly one of --host, --driver, --setup (got ${roles.length})`);
    if (passwordFile !== undefined && userName === undefined) throw new UsageError('--password-file is the password of --user: give --user NAME too');
    const user = userName !== undefined ? { name: userName, role: roles[0]!.name } : undefined;

    if (values.apply !== true) {
      io.out(format === 'json' ? `${JSON.stringify({ roles, ...(user ? { user } : {}) }, null, 2)}\n` : etcdctlScript(roles, user));
      return 0;
    }
    if (user && passwordFile === undefined)
      throw new UsageError('--user with --apply needs --password-file FILE (the password is never given on the command line)');
    let password: string | undefined;
    try {
      password = passwordFile !== undefined ? readSecretFile(passwordFile, '--password-file') : undefined;
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    return withEtcdClient(
      this,
      values,
      io,
      async (client) => {
        const changes = [];
        for (const role of roles) changes.push(await applyRole(client, role));
        const userChange = user ? await applyUser(client, user.name, password!, user.role) : undefined;
        if (format === 'json') {
          io.out(`${JSON.stringify({ roles: changes, ...(userChange ? { user: userChange } : {}) }, null, 2)}\n`);
          return 0;
        }
        for (const c of changes) {
          const what = [c.created ? 'created' : undefined, ...c.granted.map((g) => `granted ${g}`), ...c.revoked.map((r) => `revoked ${r}`)].filter(Boolean);
          io.out(`role ${c.role}: ${what.length === 0 ? 'up to date' : what.join('; ')}\n`);
        }
        if (userChange) {
          const u = userChange;
          const what = [
            u.created ? 'created' : u.passwordChanged ? 'password changed' : undefined,
            u.roleGranted ? `granted role ${u.role}` : undefined,
          ].filter(Boolean);
          io.out(`user ${u.user}: ${what.length === 0 ? 'up to date' : what.join('; ')}\n`);
          if (u.otherRoles.length > 0) io.err(`warning: user ${u.user} also has role(s) ${u.otherRoles.join(', ')}: more than the least privilege\n`);
        }
        return 0;
      },
      { budgetMs: APPLY_BUDGET_MS },
    );
  },
};
