import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { BindError, type BindErrorCode, bindPort, unbindPort } from '../src/driver';
import { hostOfKey, keys } from '../src/protocol/keys';
import { dump, type EtcdContext, useEtcd } from './helpers/etcd';
import { FakeAgentPeer, type FakeAgentPeerOptions, SEED_NICS, seedHost } from './helpers/fake-agent-peer';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const MAC = 'fa:16:3e:a0:da:db';
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';

/** A seeded host with a running peer, unique to the test so tests can run side by side. */
async function host(t: ExecutionContext<EtcdContext>, name: string, peer: Omit<FakeAgentPeerOptions, 'host'> | false = {}) {
  await seedHost(t.context.client, name, SEED_NICS);
  if (peer === false) return undefined;
  const p = await FakeAgentPeer.start(t.context.client, { host: name, ...peer });
  t.teardown(async () => {
    await p.stop();
    if (p.failures.length > 0) throw new Error(`the agent peer saw protocol problems: ${p.failures.join('; ')}`);
  });
  return p;
}

/** The keys of one host (tests share one etcd and run side by side). */
async function hostDump(t: ExecutionContext<EtcdContext>, name: string): Promise<Record<string, string>> {
  const all = await dump(t.context.client, '/spp/openstack/');
  return Object.fromEntries(Object.entries(all).filter(([k]) => hostOfKey(k) === name));
}

async function bindFails(t: ExecutionContext<EtcdContext>, run: Promise<unknown>, code: BindErrorCode): Promise<BindError> {
  const err = await t.throwsAsync(run, { instanceOf: BindError });
  t.is(err?.code, code, err?.message);
  return err!;
}

test('flat bind writes bind_port without vlan_id, action plug, claims vhost 0, and returns the vif details', async (t) => {
  await host(t, 'flat');
  const result = await bindPort(t.context.client, { host: 'flat', portId: PORT, mac: MAC, physicalNetwork: 'phys1' });
  t.deepEqual(result, {
    vif_type: 'vhostuser',
    vif_details: { port_filter: false, vhostuser_mode: 'server', vhostuser_socket: '/tmp/sock0' },
    vhost_id: 0,
    physical_network: 'phys1',
    status: 'ACTIVE',
  });
  const all = await hostDump(t, 'flat');
  t.deepEqual(all, {
    [keys.action('flat', PORT)]: 'plug',
    [keys.agent('flat')]: all[keys.agent('flat')]!,
    [keys.bindPort('flat', PORT)]: '{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}',
    [keys.configuration('flat')]: all[keys.configuration('flat')]!,
    [keys.portStatus('flat', PORT)]: 'up',
    [keys.vhost('flat', 'phys1', 0)]: PORT,
    [keys.vhost('flat', 'phys1', 1)]: 'None',
    [keys.vhost('flat', 'phys2', 2)]: 'None',
    [keys.vhost('flat', 'phys2', 3)]: 'None',
  });
});

test('VLAN bind writes vlan_id in bind_port and claims the first vhost of that network', async (t) => {
  await host(t, 'vlan');
  const result = await bindPort(t.context.client, { host: 'vlan', portId: PORT, mac: MAC, physicalNetwork: 'phys2', vlanId: 100 });
  t.is(result.vhost_id, 2);
  t.is(result.vif_details.vhostuser_socket, '/tmp/sock2');
  t.is(result.physical_network, 'phys2');
  t.is(await t.context.client.get(keys.bindPort('vlan', PORT)).string(), '{"vhost_id": 2, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 100}');
  t.is(await t.context.client.get(keys.vhost('vlan', 'phys2', 2)).string(), PORT);
  t.is(await t.context.client.get(keys.action('vlan', PORT)).string(), 'plug');
});

test('four ports fill both NICs in vhost order; a fifth on a full network fails with "no free vhost"', async (t) => {
  await host(t, 'four');
  const bind = (portId: string, phys: string) =>
    bindPort(t.context.client, { host: 'four', portId, mac: `fa:16:3e:00:00:0${portId.slice(-1)}`, physicalNetwork: phys });
  t.is((await bind('p1', 'phys1')).vhost_id, 0);
  t.is((await bind('p2', 'phys2')).vhost_id, 2);
  t.is((await bind('p3', 'phys1')).vhost_id, 1);
  t.is((await bind('p4', 'phys2')).vhost_id, 3);
  const err = await bindFails(t, bind('p5', 'phys1'), 'no_free_vhost');
  t.is(err.message, 'no free vhost on phys1 of four');
  t.is(await t.context.client.get(keys.bindPort('four', 'p5')).string(), null, 'a failed claim writes no bind_port');
  t.deepEqual(await t.context.client.getAll().prefix('/spp/openstack/vhost/four/').strings(), {
    [keys.vhost('four', 'phys1', 0)]: 'p1',
    [keys.vhost('four', 'phys1', 1)]: 'p3',
    [keys.vhost('four', 'phys2', 2)]: 'p2',
    [keys.vhost('four', 'phys2', 3)]: 'p4',
  });
});

test('16 parallel binds on a host with 8 vhosts: 8 distinct vhosts and 8 "no free vhost" failures', async (t) => {
  await seedHost(t.context.client, 'par', [{ phys: 'phys1', vhosts: [0, 1, 2, 3, 4, 5, 6, 7], coreMask: '0xffffe' }]);
  const peer = await FakeAgentPeer.start(t.context.client, { host: 'par' });
  t.teardown(() => peer.stop());
  const ports = Array.from({ length: 16 }, (_, i) => `port-${i}`);
  const results = await Promise.allSettled(
    ports.map((portId, i) =>
      bindPort(t.context.client, { host: 'par', portId, mac: `fa:16:3e:00:00:${i.toString(16).padStart(2, '0')}`, physicalNetwork: 'phys1' }),
    ),
  );
  const bound = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.vhost_id] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as BindError] : []));
  t.deepEqual(
    [...bound].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  t.is(failed.length, 8);
  for (const e of failed) {
    t.true(e instanceof BindError);
    t.is(e.code, 'no_free_vhost');
    t.is(e.message, 'no free vhost on phys1 of par');
  }
  const owners = Object.values(await t.context.client.getAll().prefix('/spp/openstack/vhost/par/').strings());
  t.is(new Set(owners).size, 8, 'every vhost has a different owner');
  t.deepEqual(peer.failures, []);
});

test('no liveness key: fails fast with "agent down" naming the key and --skip-liveness-check, writing nothing', async (t) => {
  await host(t, 'dead', false);
  const before = await hostDump(t, 'dead');
  const err = await bindFails(t, bindPort(t.context.client, { host: 'dead', portId: PORT, mac: MAC, physicalNetwork: 'phys1' }), 'agent_down');
  t.regex(err.message, /agent down/);
  t.true(err.message.includes(keys.agent('dead')));
  t.true(err.message.includes('--skip-liveness-check'));
  t.regex(err.message, /original Python agent, which keeps no liveness key/);
  t.deepEqual(await hostDump(t, 'dead'), before);
});

test('skipLivenessCheck binds against a peer that keeps no liveness key (the original agent)', async (t) => {
  await host(t, 'pyagent', { liveness: false });
  t.false(await t.context.client.get(keys.agent('pyagent')).exists());
  const result = await bindPort(t.context.client, {
    host: 'pyagent',
    portId: PORT,
    mac: MAC,
    physicalNetwork: 'phys1',
    skipLivenessCheck: true,
  });
  t.is(result.status, 'ACTIVE');
  t.is(result.vhost_id, 0);
});

test('an agent that answers up at once is never missed (50 binds and unbinds in a row)', async (t) => {
  const peer = await host(t, 'fast', { instant: true });
  for (let i = 0; i < 50; i++) {
    const portId = `fast-${i}`;
    const result = await bindPort(t.context.client, { host: 'fast', portId, mac: MAC, physicalNetwork: 'phys1', timeoutMs: 5000 });
    t.is(result.vhost_id, 0, `bind ${i}`);
    t.is((await unbindPort(t.context.client, { host: 'fast', portId, wait: true, timeoutMs: 5000 })).outcome, 'unbound');
  }
  t.is(peer!.plugged.length, 50);
});

test("agent error status fails with agent_error and the agent's reason", async (t) => {
  await host(t, 'err', { errors: { [PORT]: 'vhost 0 is not on this host' } });
  const err = await bindFails(t, bindPort(t.context.client, { host: 'err', portId: PORT, mac: MAC, physicalNetwork: 'phys1' }), 'agent_error');
  t.true(err.message.includes('vhost 0 is not on this host'), err.message);
  t.true(err.message.includes('spp port unbind --host err'), 'says how to release the vhost');
});

test('no answer from the agent fails with timeout', async (t) => {
  await host(t, 'slow', { ignore: [PORT] });
  const err = await bindFails(t, bindPort(t.context.client, { host: 'slow', portId: PORT, mac: MAC, physicalNetwork: 'phys1', timeoutMs: 300 }), 'timeout');
  t.regex(err.message, /^timeout: no port_status from the agent on slow/);
});

test('unknown host: not an SPP host', async (t) => {
  const err = await bindFails(t, bindPort(t.context.client, { host: 'nohost', portId: PORT, mac: MAC, physicalNetwork: 'phys1' }), 'unknown_host');
  t.true(err.message.includes(keys.configuration('nohost')));
  t.regex(err.message, /unknown host nohost/);
});

test("unknown physical network lists the host's networks", async (t) => {
  await host(t, 'phys');
  const err = await bindFails(t, bindPort(t.context.client, { host: 'phys', portId: PORT, mac: MAC, physicalNetwork: 'phys9' }), 'unknown_physical_network');
  t.is(err.message, 'physical network phys9 is not served by host phys; its physical networks are: phys1, phys2');
});

test('a second bind of the same port stops with "a bind was already tried" and claims nothing more', async (t) => {
  await host(t, 'twice');
  await bindPort(t.context.client, { host: 'twice', portId: PORT, mac: MAC, physicalNetwork: 'phys1' });
  const before = await hostDump(t, 'twice');
  const err = await bindFails(t, bindPort(t.context.client, { host: 'twice', portId: PORT, mac: MAC, physicalNetwork: 'phys1' }), 'already_bound');
  t.regex(err.message, /a bind was already tried/);
  t.deepEqual(await hostDump(t, 'twice'), before);
});

test('a vhost claimed by an interrupted bind of the same port is reused, not leaked', async (t) => {
  await host(t, 'resume');
  await t.context.client.put(keys.vhost('resume', 'phys1', 1)).value(PORT);
  const result = await bindPort(t.context.client, { host: 'resume', portId: PORT, mac: MAC, physicalNetwork: 'phys1' });
  t.is(result.vhost_id, 1);
  t.is(await t.context.client.get(keys.vhost('resume', 'phys1', 0)).string(), 'None');
});

test('invalid MAC, VLAN, port id and timeout are rejected before anything is written', async (t) => {
  await host(t, 'bad');
  const before = await hostDump(t, 'bad');
  const base = { host: 'bad', portId: PORT, mac: MAC, physicalNetwork: 'phys1' };
  const cases: [Partial<typeof base> & { vlanId?: number; timeoutMs?: number }, RegExp][] = [
    [{ mac: 'fa:16:3e:a0:da' }, /mac: "fa:16:3e:a0:da" is not a MAC address/],
    [{ mac: '01:00:5e:00:00:01' }, /multicast/],
    [{ vlanId: 4095 }, /vlan: must be an integer 1-4094, got 4095/],
    [{ vlanId: 0 }, /must be an integer 1-4094, got 0/],
    [{ portId: 'None' }, /free-vhost marker/],
    [{ portId: 'a/b' }, /invalid port id "a\/b"/],
    [{ physicalNetwork: 'has space' }, /not a physical network name/],
    [{ timeoutMs: 0 }, /timeout must be a positive number/],
  ];
  for (const [change, message] of cases) {
    const err = await bindFails(t, bindPort(t.context.client, { ...base, ...change }), 'invalid_input');
    t.regex(err.message, message);
  }
  t.deepEqual(await hostDump(t, 'bad'), before);
});
