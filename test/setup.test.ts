import anyTest, { type TestFn } from 'ava';
import type { Etcd3 } from 'etcd3';
import { keys } from '../src/protocol/keys';
import { parseMappings } from '../src/protocol/mappings';
import { buildHost, configurationValue, planBuild, vhostSlots } from '../src/setup/build';
import { destroyHost, planDestroy } from '../src/setup/destroy';
import { SetupRefused } from '../src/setup/errors';
import { readSnapshot } from '../src/setup/snapshot';
import { commitGuarded } from '../src/setup/txn';
import { readHostView } from '../src/setup/view';
import { dump, type EtcdContext, useEtcd } from './helpers/etcd';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';
const config = (m: string) => {
  const r = parseMappings(m);
  if (!r.configuration) throw new Error(r.errors.join('; '));
  return r.configuration;
};
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';

/** Every key of one host (tests share one etcd and use their own host names). */
async function hostKeys(client: Etcd3, host: string): Promise<Record<string, string>> {
  const all = await dump(client, '/spp/');
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.split('/')[4] === host));
}

async function claim(client: Etcd3, key: string, port: string): Promise<void> {
  const r = await client.if(key, 'Value', '==', 'None').then(client.put(key).value(port)).commit();
  if (!r.succeeded) throw new Error(`could not claim ${key}`);
}

test('vhost ids are numbered across the host, NIC after NIC', (t) => {
  t.deepEqual(
    vhostSlots('spp4', config(SEED)).map((s) => s.key),
    ['/spp/openstack/vhost/spp4/phys1/0', '/spp/openstack/vhost/spp4/phys1/1', '/spp/openstack/vhost/spp4/phys2/2', '/spp/openstack/vhost/spp4/phys2/3'],
  );
});

test('a fresh plan creates every key, each guarded as still absent', (t) => {
  const plan = planBuild('h', { format: 'legacy', vf: config(SEED) }, {});
  t.deepEqual(plan.refusals, []);
  t.true(plan.configurationChanged);
  t.is(plan.created.length, 4);
  t.true(plan.guards.every((g) => g.modRevision === '0'));
  t.is(plan.ops.length, 5);
});

test('build writes the configuration and free vhosts; a second run writes nothing', async (t) => {
  const { client } = t.context;
  const first = await buildHost(client, 'b1', config(SEED));
  t.true(first.changed);
  const after = await hostKeys(client, 'b1');
  t.deepEqual(Object.keys(after), [
    '/spp/openstack/configuration/b1',
    '/spp/openstack/vhost/b1/phys1/0',
    '/spp/openstack/vhost/b1/phys1/1',
    '/spp/openstack/vhost/b1/phys2/2',
    '/spp/openstack/vhost/b1/phys2/3',
  ]);
  t.deepEqual(JSON.parse(after['/spp/openstack/configuration/b1']!), config(SEED));
  const revisions = async () => {
    const [c, v] = await Promise.all([readSnapshot(client, keys.configuration('b1')), readSnapshot(client, '/spp/openstack/vhost/b1/')]);
    return { ...c.keys, ...v.keys };
  };
  const before = await revisions();
  const second = await buildHost(client, 'b1', config(SEED));
  t.false(second.changed);
  t.deepEqual(await revisions(), before, 'no key was written again');
});

test('a configuration written by Python (other formatting and key order) is not rewritten', async (t) => {
  const { client } = t.context;
  await client
    .put(keys.configuration('b2'))
    .value(
      '[{"num_vhost": 2, "core_mask": "0xfe", "pci_address": "00:04.0", "physical_network": "phys1"}, ' +
        '{"num_vhost": 2, "core_mask": "0xfc02", "pci_address": "00:05.0", "physical_network": "phys2"}]',
    );
  const r = await buildHost(client, 'b2', config(SEED));
  t.false(r.configurationChanged);
  t.is(r.created.length, 4);
});

test('re-running build after a vhost was claimed keeps the claim', async (t) => {
  const { client } = t.context;
  await buildHost(client, 'b3', config(SEED));
  await claim(client, keys.vhost('b3', 'phys1', 0), PORT);
  const r = await buildHost(client, 'b3', config(SEED));
  t.deepEqual(r.keptClaims, [{ key: '/spp/openstack/vhost/b3/phys1/0', portId: PORT }]);
  t.is(await client.get(keys.vhost('b3', 'phys1', 0)).string(), PORT);
  // Growing phys2 keeps the claim too and adds the new vhost.
  const grown = await buildHost(client, 'b3', config('00:04.0#phys1#2#0xfe,00:05.0#phys2#3#0xff02'));
  t.deepEqual(grown.created, ['/spp/openstack/vhost/b3/phys2/4']);
  t.is(await client.get(keys.vhost('b3', 'phys1', 0)).string(), PORT);
});

test('moving a claimed vhost to another physical network is refused without force, and nothing is written', async (t) => {
  const { client } = t.context;
  await buildHost(client, 'b4', config(SEED));
  await claim(client, keys.vhost('b4', 'phys1', 0), PORT);
  const before = await hostKeys(client, 'b4');
  const swapped = config('00:04.0#phys2#2#0xfe,00:05.0#phys1#2#0xfc02');
  const err = await t.throwsAsync(buildHost(client, 'b4', swapped), { instanceOf: SetupRefused });
  t.deepEqual(err!.problems, [`/spp/openstack/vhost/b4/phys1/0 is claimed by port ${PORT}; the new configuration puts vhost 0 under physical network phys2`]);
  t.deepEqual(await hostKeys(client, 'b4'), before);

  const forced = await buildHost(client, 'b4', swapped, { force: true });
  t.deepEqual(forced.forced, [{ key: '/spp/openstack/vhost/b4/phys1/0', portId: PORT }]);
  t.deepEqual(await hostKeys(client, 'b4'), {
    '/spp/openstack/configuration/b4': configurationValue(swapped),
    '/spp/openstack/vhost/b4/phys1/2': 'None',
    '/spp/openstack/vhost/b4/phys1/3': 'None',
    '/spp/openstack/vhost/b4/phys2/0': 'None',
    '/spp/openstack/vhost/b4/phys2/1': 'None',
  });
});

test('dropping a claimed vhost is refused; free vhosts that are dropped are deleted', async (t) => {
  const { client } = t.context;
  await buildHost(client, 'b5', config(SEED));
  await claim(client, keys.vhost('b5', 'phys2', 3), PORT);
  const smaller = config('00:04.0#phys1#2#0xfe,00:05.0#phys2#1#0x3c02');
  const err = await t.throwsAsync(buildHost(client, 'b5', smaller), { instanceOf: SetupRefused });
  t.deepEqual(err!.problems, [`/spp/openstack/vhost/b5/phys2/3 is claimed by port ${PORT}; the new configuration has no vhost 3`]);

  await client.put(keys.vhost('b5', 'phys2', 3)).value('None');
  const r = await buildHost(client, 'b5', smaller);
  t.deepEqual(r.deleted, ['/spp/openstack/vhost/b5/phys2/3']);
  t.deepEqual(
    Object.keys(await hostKeys(client, 'b5')).filter((k) => k.includes('/vhost/')),
    ['/spp/openstack/vhost/b5/phys1/0', '/spp/openstack/vhost/b5/phys1/1', '/spp/openstack/vhost/b5/phys2/2'],
  );
});

test('a plan made before a driver claimed a vhost cannot commit (guarded by mod revision)', async (t) => {
  const { client } = t.context;
  await buildHost(client, 'b6', config(SEED));
  const smaller = config('00:04.0#phys1#2#0xfe,00:05.0#phys2#1#0x3c02');
  const stale = (await readSnapshot(client, '/spp/openstack/vhost/b6/')).keys;
  const plan = planBuild('b6', { format: 'legacy', vf: smaller }, stale);
  t.deepEqual(plan.deleted, ['/spp/openstack/vhost/b6/phys2/3']);
  await claim(client, keys.vhost('b6', 'phys2', 3), PORT);
  t.false(await commitGuarded(client, plan.guards, plan.ops));
  t.is(await client.get(keys.vhost('b6', 'phys2', 3)).string(), PORT);
  // buildHost re-reads and now refuses.
  await t.throwsAsync(buildHost(client, 'b6', smaller), { instanceOf: SetupRefused });
});

test('build rejects an invalid configuration before touching etcd', async (t) => {
  const { client } = t.context;
  const err = await t.throwsAsync(buildHost(client, 'b7', [{ pci_address: '00:04.0', physical_network: 'p', num_vhost: 2, core_mask: '0x1e' }]), {
    instanceOf: SetupRefused,
  });
  t.regex(err!.problems[0]!, /^NIC 0 \(00:04\.0\): core mask 0x1e has 3 occupied core\(s\)/);
  t.deepEqual(await hostKeys(client, 'b7'), {});
});

async function plugged(client: Etcd3, host: string): Promise<void> {
  await buildHost(client, host, config(SEED));
  await claim(client, keys.vhost(host, 'phys1', 0), PORT);
  await client.put(keys.bindPort(host, PORT)).value('{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}');
  await client.put(keys.action(host, PORT)).value('plug');
  await client.put(keys.portStatus(host, PORT)).value('up');
}

test('destroy refuses while ports are bound, naming them; nothing is removed', async (t) => {
  const { client } = t.context;
  await plugged(client, 'd1');
  const before = await hostKeys(client, 'd1');
  const err = await t.throwsAsync(destroyHost(client, 'd1'), { instanceOf: SetupRefused });
  t.deepEqual(err!.problems, [
    `port ${PORT} has /spp/openstack/action/d1/${PORT} = plug, has /spp/openstack/bind_port/d1/${PORT}, claims /spp/openstack/vhost/d1/phys1/0`,
  ]);
  t.deepEqual(await hostKeys(client, 'd1'), before);
});

test('destroy --force removes exactly the host keys; other hosts and the agent key stay', async (t) => {
  const { client } = t.context;
  await plugged(client, 'd2');
  await plugged(client, 'd20');
  await client.put(keys.agent('d2')).value('{"version": "0", "started_at": "x", "pid": 1}');
  const othersBefore = await hostKeys(client, 'd20');
  const r = await destroyHost(client, 'd2', { force: true });
  t.is(r.deleted.length, 8);
  t.is(r.forcedPorts.length, 1);
  t.deepEqual(await hostKeys(client, 'd2'), { '/spp/openstack/agent/d2': '{"version": "0", "started_at": "x", "pid": 1}' });
  t.deepEqual(await hostKeys(client, 'd20'), othersBefore);
});

test('destroy of a host without bound ports needs no force; an unknown host deletes nothing', async (t) => {
  const { client } = t.context;
  await buildHost(client, 'd3', config(SEED));
  t.is((await destroyHost(client, 'd3')).deleted.length, 5);
  t.deepEqual(await hostKeys(client, 'd3'), {});
  t.deepEqual((await destroyHost(client, 'nohost')).deleted, []);
  t.deepEqual(planDestroy('x', {}).ops, []);
});

test('readHostView reads one host at one revision', async (t) => {
  const { client } = t.context;
  await plugged(client, 'v1');
  const view = await readHostView(client, 'v1');
  t.regex(view.revision!, /^[0-9]+$/);
  t.is(view.hosts.length, 1);
  const host = view.hosts[0]!;
  t.is(host.ports.length, 1);
  t.deepEqual(host.ports[0]!.vhostKeys, ['/spp/openstack/vhost/v1/phys1/0']);
  t.deepEqual(host.ports[0]!.problems, []);
  t.is(host.layout?.length, 2);
});

test('a transaction larger than etcd accepts is refused before it is sent', async (t) => {
  const guards = Array.from({ length: 129 }, (_, i) => ({ key: `/spp/x/${i}`, modRevision: '0' }));
  const err = await t.throwsAsync(commitGuarded(t.context.client, guards, [{ kind: 'delete', key: '/spp/x/0' }]), { instanceOf: SetupRefused });
  t.deepEqual(err!.problems, ['it needs 129 comparisons and 1 writes; etcd accepts at most 128 of each (--max-txn-ops)']);
});
