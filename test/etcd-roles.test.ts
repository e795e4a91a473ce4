import { spawnSync } from 'node:child_process';
import anyTest, { type TestFn } from 'ava';
import { type Etcd3, Range } from 'etcd3';
import { keys, prefixes, ROOT } from '../src/protocol/keys';
import { agentRole, driverRole, setupRole } from '../src/setup/roles';
import { describeRange } from '../src/setup/roles-apply';
import { runCli } from './helpers/cli';
import { type AuthEtcdContext, clientAs, ROOT_PASSWORD, rootEnv, secretFile, useAuthEtcd } from './helpers/etcd-auth';
import { FakeAgentPeer } from './helpers/fake-agent-peer';

// Roles and users are cluster-wide names: the tests of this file run one at a time.
const test = anyTest as TestFn<AuthEtcdContext>;

/** Every key of one host: its configuration, a vhost, one port's keys, the liveness key and the host lock. */
function hostKeys(host: string, portId: string): string[] {
  return [
    keys.configuration(host),
    keys.vhost(host, 'phys1', 0),
    keys.bindPort(host, portId),
    keys.action(host, portId),
    keys.portStatus(host, portId),
    keys.agent(host),
    `${ROOT}agent-lock/${host}`,
  ];
}

useAuthEtcd(test);

async function grantsOf(root: Etcd3, role: string): Promise<string[]> {
  return (await root.role(role).permissions()).map((p) => `${p.permission.toLowerCase()} ${describeRange(p.range)}`).sort();
}

test.serial('the text form is pasteable into etcdctl, and --apply then finds every role up to date', async (t) => {
  const text = await runCli(['etcd', 'roles', '--host', 'paste1', '--driver', '--setup']);
  t.is(text.code, 0, text.err);
  t.regex(text.out, /^etcdctl role add spp-agent-paste1$/m);
  t.regex(text.out, /^etcdctl role grant-permission --prefix=true spp-agent-paste1 readwrite \/spp\/openstack\/vhost\/paste1\/$/m);
  t.regex(text.out, /^etcdctl role grant-permission spp-agent-paste1 read \/spp\/openstack\/configuration\/paste1$/m);
  const sh = spawnSync('sh', ['-e', '-c', text.out], {
    encoding: 'utf8',
    env: { ...process.env, ETCDCTL_API: '3', ETCDCTL_ENDPOINTS: t.context.etcd.endpoint, ETCDCTL_USER: `root:${ROOT_PASSWORD}` },
  });
  t.is(sh.status, 0, sh.stderr);
  const apply = await runCli(['etcd', 'roles', '--host', 'paste1', '--driver', '--setup', '--apply'], rootEnv(t.context));
  t.is(apply.code, 0, apply.err);
  t.is(apply.out, 'role spp-agent-paste1: up to date\nrole spp-driver: up to date\nrole spp-setup: up to date\n');
  t.is((await grantsOf(t.context.root, 'spp-agent-paste1')).length, 11);
});

test.serial('--apply creates the roles, a second run changes nothing, a stale or changed grant is put right', async (t) => {
  const argv = ['etcd', 'roles', '--host', 'a1', '--apply'];
  const first = await runCli(argv, rootEnv(t.context));
  t.is(first.code, 0, first.err);
  t.true(first.out.startsWith('role spp-agent-a1: created; granted read /spp/openstack/configuration/a1; '), first.out);
  const expected = await grantsOf(t.context.root, 'spp-agent-a1');
  t.deepEqual(
    expected,
    [
      'readwrite --prefix /spp/openstack/action/a1/',
      'readwrite --prefix /spp/openstack/bind_port/a1/',
      'readwrite --prefix /spp/openstack/port_status/a1/',
      'readwrite --prefix /spp/openstack/vhost/a1/',
      'readwrite --prefix /spp/openstack/mirror/a1/',
      'readwrite --prefix /spp/openstack/tap_info/a1/',
      'readwrite --prefix /spp/openstack/tap_action/a1/',
      'readwrite --prefix /spp/openstack/tap_status/a1/',
      'readwrite /spp/openstack/agent-lock/a1',
      'readwrite /spp/openstack/agent/a1',
      'read /spp/openstack/configuration/a1',
    ].sort(),
  );
  const second = await runCli(argv, rootEnv(t.context));
  t.is(second.out, 'role spp-agent-a1: up to date\n');

  // Someone widened the role by hand and made its configuration writable.
  const role = t.context.root.role('spp-agent-a1');
  await role.grant({ permission: 'Readwrite', range: Range.prefix(ROOT) });
  await role.grant({ permission: 'Readwrite', key: keys.configuration('a1') });
  const repair = await runCli([...argv, '--format', 'json'], rootEnv(t.context));
  t.is(repair.code, 0, repair.err);
  t.deepEqual(JSON.parse(repair.out), {
    roles: [{ role: 'spp-agent-a1', created: false, granted: ['read /spp/openstack/configuration/a1'], revoked: ['readwrite --prefix /spp/openstack/'] }],
  });
  t.deepEqual(await grantsOf(t.context.root, 'spp-agent-a1'), expected);
  t.is((await runCli(argv, rootEnv(t.context))).out, 'role spp-agent-a1: up to date\n');
});

test.serial("a host user reads and writes its own ranges and is refused every other host's (spp4 is not spp40)", async (t) => {
  const pw = secretFile(t.context.dir, 'agent-spp4.pw', 'agent-spp4-Secret');
  const apply = await runCli(['etcd', 'roles', '--host', 'spp4', '--apply', '--user', 'agent-spp4', '--password-file', pw], rootEnv(t.context));
  t.is(apply.code, 0, apply.err);
  t.true(apply.out.includes('user agent-spp4: created; granted role spp-agent-spp4'), apply.out);
  t.false(apply.out.includes('agent-spp4-Secret'));
  const root = t.context.root;
  await root.put(keys.configuration('spp4')).value('[]');
  await root.put(keys.configuration('spp40')).value('[]');
  await root.put(keys.vhost('spp40', 'phys1', 0)).value('None');

  const agent = clientAs(t.context.etcd, 'agent-spp4', 'agent-spp4-Secret');
  t.teardown(() => agent.close());
  t.is(await agent.get(keys.configuration('spp4')).string(), '[]');
  // every key of its host but the configuration, which it only reads (above)
  for (const key of hostKeys('spp4', 'p1').slice(1)) {
    await agent.put(key).value('x');
    t.is(await agent.get(key).string(), 'x', key);
    await agent.delete().key(key);
  }
  // The agent's unplug cleanup: one guarded transaction over four of its ranges.
  await agent.put(keys.action('spp4', 'p2')).value('unplug');
  await agent.put(keys.vhost('spp4', 'phys1', 1)).value('p2');
  const cleanup = await agent
    .if(keys.action('spp4', 'p2'), 'Value', '==', 'unplug')
    .and(keys.vhost('spp4', 'phys1', 1), 'Value', '==', 'p2')
    .then(
      agent.put(keys.vhost('spp4', 'phys1', 1)).value('None'),
      agent.delete().key(keys.action('spp4', 'p2')),
      agent.delete().key(keys.portStatus('spp4', 'p2')),
    )
    .commit();
  t.true(cleanup.succeeded);
  t.deepEqual(Object.keys(await agent.getAll().prefix(prefixes.vhostOfHost('spp4')).strings()), [keys.vhost('spp4', 'phys1', 1)]);

  const refused = async (what: string, op: () => Promise<unknown>): Promise<void> => {
    const err = await t.throwsAsync(op, undefined, what);
    t.regex(err?.message ?? '', /permission denied/, what);
  };
  await refused('read another host configuration', () => agent.get(keys.configuration('spp40')).string());
  await refused('list another host vhosts', () => agent.getAll().prefix(prefixes.vhostOfHost('spp40')).strings());
  await refused('claim another host vhost', () =>
    agent
      .put(keys.vhost('spp40', 'phys1', 0))
      .value('p9')
      .exec(),
  );
  await refused('write its configuration', () => agent.put(keys.configuration('spp4')).value('[{}]').exec());
  await refused('list the whole tree', () => agent.getAll().prefix(ROOT).strings());
  await refused('write another host agent key', () => agent.put(keys.agent('spp40')).value('x').exec());
  await refused('write port status of another host', () => agent.put(keys.portStatus('spp40', 'p1')).value('up').exec());
  t.is(await root.get(keys.vhost('spp40', 'phys1', 0)).string(), 'None');

  // A new password file: the password is changed, the old one stops working; the same file again changes nothing.
  const pw2 = secretFile(t.context.dir, 'agent-spp4-2.pw', 'agent-spp4-Other');
  const change = await runCli(['etcd', 'roles', '--host', 'spp4', '--apply', '--user', 'agent-spp4', '--password-file', pw2], rootEnv(t.context));
  t.is(change.out, 'role spp-agent-spp4: up to date\nuser agent-spp4: password changed\n');
  const again = await runCli(['etcd', 'roles', '--host', 'spp4', '--apply', '--user', 'agent-spp4', '--password-file', pw2], rootEnv(t.context));
  t.is(again.out, 'role spp-agent-spp4: up to date\nuser agent-spp4: up to date\n');
  const old = clientAs(t.context.etcd, 'agent-spp4', 'agent-spp4-Secret');
  t.teardown(() => old.close());
  await t.throwsAsync(() => old.get(keys.configuration('spp4')).string(), { message: /authentication failed/ });
});

test.serial('the driver user binds, lists and unbinds with spp port; the set-up user builds, shows and destroys the host', async (t) => {
  const env = rootEnv(t.context);
  const files = {
    driver: secretFile(t.context.dir, 'neutron.pw', 'neutron-Secret'),
    setup: secretFile(t.context.dir, 'setup.pw', 'setup-Secret'),
    agent: secretFile(t.context.dir, 'agent-c7.pw', 'agent-c7-Secret'),
  };
  for (const [role, user, file] of [
    ['--driver', 'neutron', files.driver],
    ['--setup', 'installer', files.setup],
  ] as const) {
    const r = await runCli(['etcd', 'roles', role, '--apply', '--user', user, '--password-file', file], env);
    t.is(r.code, 0, r.err);
  }
  t.is((await runCli(['etcd', 'roles', '--host', 'c7', '--apply', '--user', 'agent-c7', '--password-file', files.agent], env)).code, 0);
  const endpoints = ['--etcd-endpoints', t.context.etcd.endpoint];
  const asSetup = ['--etcd-user', 'installer', '--etcd-password-file', files.setup, ...endpoints];
  const build = await runCli(['config', 'build', '--host', 'c7', '--mappings', '00:04.0#phys1#2#0xfe', ...asSetup]);
  t.is(build.code, 0, build.err);

  // The agent side under the host role: liveness, and up for every plug.
  const agentClient = clientAs(t.context.etcd, 'agent-c7', 'agent-c7-Secret');
  const peer = await FakeAgentPeer.start(agentClient, { host: 'c7' });
  t.teardown(async () => {
    await peer.stop();
    agentClient.close();
  });

  const port = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
  const bind = await runCli(
    [
      'port',
      'bind',
      '--host',
      'c7',
      '--port-id',
      port,
      '--mac',
      'fa:16:3e:a0:da:db',
      '--phys',
      'phys1',
      '--vlan',
      '100',
      '--etcd-user',
      'neutron',
      ...endpoints,
    ],
    {
      SPP_ETCD_PASSWORD: 'neutron-Secret',
    },
  );
  t.is(bind.code, 0, bind.err);
  t.is(JSON.parse(bind.out).status, 'ACTIVE');
  const root = t.context.root;
  t.is(await root.get(keys.bindPort('c7', port)).string(), '{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 100}');
  t.is(await root.get(keys.action('c7', port)).string(), 'plug');
  t.is(await root.get(keys.vhost('c7', 'phys1', 0)).string(), port);
  t.is(await root.get(keys.portStatus('c7', port)).string(), 'up');

  const asDriver = ['--etcd-user', 'neutron', '--etcd-password-file', files.driver, ...endpoints];
  const list = await runCli(['port', 'list', '--format', 'json', ...asDriver]);
  t.is(list.code, 0, list.err);
  t.deepEqual(
    JSON.parse(list.out).map((r: { portId: string; vlanId: number }) => [r.portId, r.vlanId]),
    [[port, 100]],
  );
  // The TaaS service driver's half under the same role: claim a mirror, write tap_info and tap_action, list, delete.
  await root.put(keys.mirror('c7', 0)).value('None');
  const tap = ['--host', 'c7', '--tap-flow-id', 'tf-1'];
  const created = await runCli(['tap', 'create', ...tap, '--service-port', port, '--source-port', port, '--direction', 'IN', ...asDriver]);
  t.is(created.code, 0, created.err);
  t.is(await root.get(keys.mirror('c7', 0)).string(), 'tf-1');
  const taps = await runCli(['tap', 'list', '--format', 'json', ...asDriver]);
  t.is(taps.code, 0, taps.err);
  t.deepEqual(
    JSON.parse(taps.out).map((r: { tapFlowId: string; mirrorIn: number }) => [r.tapFlowId, r.mirrorIn]),
    [['tf-1', 0]],
  );
  t.is((await runCli(['tap', 'delete', ...tap, ...asDriver])).code, 0);
  t.is(await root.get(keys.tapAction('c7', 'tf-1')).string(), 'unplug');
  // what the agent does on unplug (docs/taas.md): free the mirror, delete the flow's keys; destroy refuses a claimed mirror
  await root.put(keys.mirror('c7', 0)).value('None');
  await root.delete().key(keys.tapInfo('c7', 'tf-1'));
  await root.delete().key(keys.tapAction('c7', 'tf-1'));
  const unbind = await runCli(['port', 'unbind', '--host', 'c7', '--port-id', port, '--wait', '--timeout', '5', ...asDriver]);
  t.is(unbind.code, 0, unbind.err);
  t.is(await root.get(keys.vhost('c7', 'phys1', 0)).string(), 'None');
  t.deepEqual(peer.failures, []);

  // Least privilege: the driver cannot read the whole tree or change a host's set-up.
  const status = await runCli(['status', ...asDriver]);
  t.is(status.code, 1);
  t.is(
    status.err.split('\n')[0],
    `spp status: etcd at ${t.context.etcd.endpoint}: permission denied for user neutron (7 PERMISSION_DENIED: etcdserver: permission denied).`,
  );
  t.is((await runCli(['config', 'destroy', '--host', 'c7', ...asDriver])).code, 1);

  const show = await runCli(['status', '--host', 'c7', ...asSetup]);
  t.is(show.code, 0, show.err);
  t.true(show.out.includes('c7'));
  const destroy = await runCli(['config', 'destroy', '--host', 'c7', ...asSetup]);
  t.is(destroy.code, 0, destroy.err);
  t.false(await root.get(keys.configuration('c7')).exists());
});

test.serial('auth failures are clear, name endpoints and user, and never show the password', async (t) => {
  const endpoint = t.context.etcd.endpoint;
  const pw = secretFile(t.context.dir, 'wrong.pw', 'Wrong-Pass-0815');
  const bindArgs = ['port', 'bind', '--host', 'h', '--port-id', 'p', '--mac', 'fa:16:3e:a0:da:db', '--phys', 'phys1', '--etcd-endpoints', endpoint];
  const runs = [
    await runCli([...bindArgs, '--etcd-user', 'neutron'], { SPP_ETCD_PASSWORD: 'Wrong-Pass-0815' }),
    await runCli([...bindArgs, '--etcd-user', 'neutron', '--etcd-password-file', pw]),
    await runCli(['status', '--etcd-endpoints', endpoint], { SPP_ETCD_USER: 'nobody', SPP_ETCD_PASSWORD: 'Wrong-Pass-0815' }),
  ];
  for (const r of runs) {
    t.is(r.code, 1, r.err);
    t.regex(r.err, new RegExp(`^spp (port bind|status): etcd at ${endpoint} refused the login of user (neutron|nobody): wrong user name or password`));
    t.true(r.err.includes('Check --etcd-user / SPP_ETCD_USER and the password in SPP_ETCD_PASSWORD or --etcd-password-file / SPP_ETCD_PASSWORD_FILE.'));
    t.false(`${r.out}${r.err}`.includes('Wrong-Pass-0815'), 'the password is never printed');
    t.false(r.err.includes('    at '), 'no stack trace');
  }
  const anonymous = await runCli(['port', 'list', '--etcd-endpoints', endpoint]);
  t.is(anonymous.code, 1);
  t.true(anonymous.err.startsWith(`spp port list: etcd at ${endpoint} has authentication enabled and no user was given`), anonymous.err);

  // Usage errors, before any connection.
  const noPassword = await runCli([...bindArgs, '--etcd-user', 'neutron']);
  t.is(noPassword.code, 2);
  t.regex(noPassword.err, /etcd user neutron \(flag --etcd-user\) needs a password: set SPP_ETCD_PASSWORD or --etcd-password-file/);
  const missingFile = await runCli([...bindArgs, '--etcd-user', 'neutron', '--etcd-password-file', `${t.context.dir}/none.pw`]);
  t.is(missingFile.code, 2);
  t.regex(missingFile.err, /cannot read etcd password file \(flag --etcd-password-file\) .*none\.pw: ENOENT/);
  t.is((await runCli([...bindArgs, '--etcd-password', 'x'])).code, 2, 'no password flag outside the agent');
});

test.serial('spp etcd roles: --format json derives keys from the protocol prefixes; usage errors exit 2', async (t) => {
  const json = await runCli(['etcd', 'roles', '--host', 'spp4', '--driver', '--setup', '--format', 'json']);
  t.is(json.code, 0, json.err);
  const parsed = JSON.parse(json.out) as { roles: Array<{ name: string; grants: Array<{ key: string; prefix: boolean }> }> };
  t.deepEqual(
    parsed.roles.map((r) => r.name),
    ['spp-agent-spp4', 'spp-driver', 'spp-setup'],
  );
  t.deepEqual(parsed.roles, JSON.parse(JSON.stringify([agentRole('spp4'), driverRole(), setupRole()])));
  const spp40 = hostKeys('spp40', 'p');
  for (const g of parsed.roles[0]!.grants) {
    t.true(g.prefix ? g.key.endsWith('/spp4/') : g.key.endsWith('/spp4'), g.key);
    for (const key of spp40) t.false(g.prefix ? Range.prefix(g.key).includes(key) : g.key === key, `${g.key} does not reach ${key}`);
  }
  const user = await runCli(['etcd', 'roles', '--host', 'spp4', '--user', 'agent-spp4']);
  t.true(user.out.includes('etcdctl user add agent-spp4\netcdctl user grant-role agent-spp4 spp-agent-spp4\n'), user.out);

  for (const [argv, message] of [
    [[], /choose the roles/],
    [['--host', 'a', '--driver', '--user', 'u'], /--user grants one role/],
    [['--driver', '--apply', '--user', 'u'], /needs --password-file FILE/],
    [['--driver', '--password-file', '/nonexistent'], /give --user NAME too/],
    [['--host', 'a/b'], /must be non-empty and contain no '\/'/],
    [['--driver', '--format', 'yaml'], /--format must be one of text, json/],
  ] as const) {
    const r = await runCli(['etcd', 'roles', ...argv]);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.err, message);
  }
  const help = await runCli(['etcd', 'roles', '--help']);
  t.is(help.code, 0);
  for (const s of ['--host HOST', '--driver', '--setup', '--apply', '--user NAME', '--password-file FILE', '--etcd-user USER', '--etcd-password-file FILE'])
    t.true(help.out.includes(s), s);
});

test('every command that talks to etcd takes the same TLS and auth options', async (t) => {
  const commands = [
    ['config', 'build'],
    ['config', 'destroy'],
    ['config', 'show'],
    ['status'],
    ['port', 'bind'],
    ['port', 'unbind'],
    ['port', 'list'],
    ['etcd', 'roles'],
    ['agent'],
  ];
  for (const path of commands) {
    const help = (await runCli([...path, '--help'])).out;
    for (const option of [
      '--etcd-endpoints LIST',
      '--etcd-ca-file FILE',
      '--etcd-cert-file FILE',
      '--etcd-key-file FILE',
      '--etcd-user USER',
      '--etcd-password-file FILE',
    ]) {
      t.true(help.includes(option), `${path.join(' ')} ${option}`);
    }
    t.is(help.includes('--etcd-password PASSWORD'), path[0] === 'agent', `${path.join(' ')}: a password flag only where it already was`);
  }
});
