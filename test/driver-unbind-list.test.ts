import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { bindPort, judgeStatus, listPorts, portRows, UnbindError, unbindPort, waitForPortStatus } from '../src/driver';
import { hostOfKey, keys } from '../src/protocol/keys';
import { dump, type EtcdContext, parseEtcdctlText, useEtcd } from './helpers/etcd';
import { FakeAgentPeer, SEED_NICS, seedHost } from './helpers/fake-agent-peer';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const MAC = 'fa:16:3e:a0:da:db';
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';

/** test/fixtures/seed-one-plugged.etcdctl.txt (the architecture document's example host). */
const SEED_ONE_PLUGGED = `/spp/openstack/action/spp4/6160c9da-b2d5-4236-8413-7d646e5c0ae2
plug
/spp/openstack/bind_port/spp4/6160c9da-b2d5-4236-8413-7d646e5c0ae2
{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}
/spp/openstack/configuration/spp4
[{"num_vhost": 2, "core_mask": "0xfe", "pci_address": "00:04.0", "physical_network": "phys1"}, {"num_vhost": 2, "core_mask": "0xfc02", "pci_address": "00:05.0", "physical_network": "phys2"}]
/spp/openstack/port_status/spp4/6160c9da-b2d5-4236-8413-7d646e5c0ae2
up
/spp/openstack/vhost/spp4/phys1/0
6160c9da-b2d5-4236-8413-7d646e5c0ae2
/spp/openstack/vhost/spp4/phys1/1
None
/spp/openstack/vhost/spp4/phys2/2
None
/spp/openstack/vhost/spp4/phys2/3
None
`;

async function hostDump(t: ExecutionContext<EtcdContext>, name: string): Promise<Record<string, string>> {
  const all = await dump(t.context.client, '/spp/openstack/');
  return Object.fromEntries(Object.entries(all).filter(([k]) => hostOfKey(k) === name && !k.includes('/agent/')));
}

async function peerOn(t: ExecutionContext<EtcdContext>, name: string, opts: { ignore?: string[] } = {}): Promise<FakeAgentPeer> {
  await seedHost(t.context.client, name, SEED_NICS);
  const peer = await FakeAgentPeer.start(t.context.client, { host: name, ...opts });
  t.teardown(() => peer.stop());
  return peer;
}

test('unbind --wait: the agent frees the vhost and removes bind_port, action and port_status', async (t) => {
  const peer = await peerOn(t, 'unb');
  const fresh = await hostDump(t, 'unb');
  await bindPort(t.context.client, { host: 'unb', portId: PORT, mac: MAC, physicalNetwork: 'phys2', vlanId: 7 });
  t.is(await t.context.client.get(keys.vhost('unb', 'phys2', 2)).string(), PORT);
  const result = await unbindPort(t.context.client, { host: 'unb', portId: PORT, wait: true, timeoutMs: 5000 });
  t.is(result.outcome, 'unbound');
  t.deepEqual(await hostDump(t, 'unb'), fresh, 'back to the freshly set-up host: vhost None, port keys gone');
  t.deepEqual(peer.failures, []);
});

test('unbind without wait only turns the action into unplug and leaves the rest to the agent', async (t) => {
  const { client } = t.context;
  await seedHost(client, 'nowait', SEED_NICS);
  await client.put(keys.vhost('nowait', 'phys1', 0)).value(PORT);
  await client.put(keys.bindPort('nowait', PORT)).value('{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}');
  await client.put(keys.action('nowait', PORT)).value('plug');
  const before = await hostDump(t, 'nowait');
  const result = await unbindPort(client, { host: 'nowait', portId: PORT });
  t.is(result.outcome, 'unplug_requested');
  t.deepEqual(await hostDump(t, 'nowait'), { ...before, [keys.action('nowait', PORT)]: 'unplug' });
});

test('unbind of a port that has no action says there is nothing to unbind and writes nothing', async (t) => {
  await peerOn(t, 'none');
  const before = await hostDump(t, 'none');
  const result = await unbindPort(t.context.client, { host: 'none', portId: PORT, wait: true });
  t.is(result.outcome, 'nothing_to_unbind');
  t.regex(result.message, /^nothing to unbind: port 6160c9da-\S+ has no action on none/);
  t.deepEqual(await hostDump(t, 'none'), before);
});

test('unbind --wait times out, naming the keys still present, when no agent cleans up', async (t) => {
  await seedHost(t.context.client, 'noagent', SEED_NICS);
  await t.context.client.put(keys.action('noagent', PORT)).value('plug');
  const err = await t.throwsAsync(unbindPort(t.context.client, { host: 'noagent', portId: PORT, wait: true, timeoutMs: 300 }), {
    instanceOf: UnbindError,
  });
  t.is(err?.code, 'timeout');
  t.true(err?.message.includes(`still present: ${keys.action('noagent', PORT)}`), err?.message);
  t.is(await t.context.client.get(keys.action('noagent', PORT)).string(), 'unplug');
});

test('waitForPortStatus sees an up written and deleted again right after the action put (watch from its revision)', async (t) => {
  const { client } = t.context;
  const put = await client.put(keys.action('race', PORT)).value('plug').exec();
  await client.put(keys.portStatus('race', PORT)).value('up');
  await client.delete().key(keys.portStatus('race', PORT));
  const outcome = await waitForPortStatus(client, { host: 'race', portId: PORT, fromRevision: Number(put.header.revision), timeoutMs: 5000 });
  t.deepEqual(outcome, { kind: 'up' });
});

test('waitForPortStatus ignores a leftover status written before the action put', async (t) => {
  const { client } = t.context;
  await client.put(keys.portStatus('stale', PORT)).value('up');
  const put = await client.put(keys.action('stale', PORT)).value('plug').exec();
  const outcome = await waitForPortStatus(client, { host: 'stale', portId: PORT, fromRevision: Number(put.header.revision), timeoutMs: 300 });
  t.deepEqual(outcome, { kind: 'timeout' });
});

test('waitForPortStatus stops when its signal aborts', async (t) => {
  const ac = new AbortController();
  const waiting = waitForPortStatus(t.context.client, { host: 'abort', portId: PORT, fromRevision: 1, timeoutMs: 60_000, signal: ac.signal });
  ac.abort(new Error('neutron gave up'));
  await t.throwsAsync(waiting, { message: 'neutron gave up' });
});

test("judgeStatus: up, the agent's error reason, anything else is a failure naming the key", (t) => {
  t.deepEqual(judgeStatus('k', 'up'), { kind: 'up' });
  t.deepEqual(judgeStatus('k', 'error: bad vlan'), { kind: 'error', reason: 'bad vlan' });
  t.deepEqual(judgeStatus('k', 'down'), { kind: 'invalid', message: 'k: must be "up" or "error: <reason>", got "down"' });
});

test('listPorts reports every port of a host with vhost, network, MAC, VLAN, action and status', async (t) => {
  await peerOn(t, 'lst', { ignore: ['p-wait'] });
  const { client } = t.context;
  await bindPort(client, { host: 'lst', portId: 'p-flat', mac: 'fa:16:3e:00:00:01', physicalNetwork: 'phys1' });
  await bindPort(client, { host: 'lst', portId: 'p-vlan', mac: 'fa:16:3e:00:00:02', physicalNetwork: 'phys2', vlanId: 42 });
  await t.throwsAsync(bindPort(client, { host: 'lst', portId: 'p-wait', mac: 'fa:16:3e:00:00:03', physicalNetwork: 'phys1', timeoutMs: 200 }));
  const rows = await listPorts(client, 'lst');
  t.deepEqual(rows, [
    { host: 'lst', portId: 'p-flat', vhostId: 0, physicalNetwork: 'phys1', mac: 'fa:16:3e:00:00:01', vlanId: null, action: 'plug', status: 'up', errors: {} },
    { host: 'lst', portId: 'p-wait', vhostId: 1, physicalNetwork: 'phys1', mac: 'fa:16:3e:00:00:03', vlanId: null, action: 'plug', status: null, errors: {} },
    { host: 'lst', portId: 'p-vlan', vhostId: 2, physicalNetwork: 'phys2', mac: 'fa:16:3e:00:00:02', vlanId: 42, action: 'plug', status: 'up', errors: {} },
  ]);
  t.true(
    (await listPorts(client)).some((r) => r.host === 'lst' && r.portId === 'p-flat'),
    'listed without a host filter too',
  );
});

test('listPorts keeps a port whose values do not decode and says which field is wrong', async (t) => {
  const { client } = t.context;
  await seedHost(client, 'broken', SEED_NICS);
  await client.put(keys.vhost('broken', 'phys1', 0)).value('px');
  await client.put(keys.bindPort('broken', 'px')).value('{"vhost_id": 0, "mac_address": "zz"}');
  await client.put(keys.action('broken', 'px')).value('replug');
  await client.put(keys.portStatus('broken', 'px')).value('down');
  const [row, ...rest] = await listPorts(client, 'broken');
  t.deepEqual(rest, []);
  t.is(row?.portId, 'px');
  t.is(row?.vhostId, 0, 'the vhost it owns is still shown');
  t.is(row?.physicalNetwork, 'phys1');
  t.is(row?.mac, null);
  t.is(row?.action, null);
  t.is(row?.status, null);
  t.regex(row?.errors.bind_port ?? '', /bind_port\/broken\/px: field mac_address: "zz" is not a MAC address/);
  t.regex(row?.errors.action ?? '', /action\/broken\/px: .*"replug"/);
  t.regex(row?.errors.port_status ?? '', /port_status\/broken\/px: must be "up" or "error: <reason>", got "down"/);
});

test('portRows reads the seed snapshot with one plugged port, and flags a claim without bind_port', (t) => {
  const seed = parseEtcdctlText(SEED_ONE_PLUGGED);
  t.deepEqual(portRows(seed), [
    {
      host: 'spp4',
      portId: '6160c9da-b2d5-4236-8413-7d646e5c0ae2',
      vhostId: 0,
      physicalNetwork: 'phys1',
      mac: 'fa:16:3e:a0:da:db',
      vlanId: null,
      action: 'plug',
      status: 'up',
      errors: {},
    },
  ]);
  const halfway = { ...seed, '/spp/openstack/vhost/spp4/phys2/3': 'p-half' };
  const row = portRows(halfway, 'spp4').find((r) => r.portId === 'p-half');
  t.is(row?.vhostId, 3);
  t.regex(row?.errors.vhost ?? '', /claimed by this port but it has no bind_port/);
  t.deepEqual(portRows(seed, 'other'), []);
});
