/**
 * End to end: real etcd, the emulator, the agent as its own process, and our
 * driver client binding as neutron would. (The demo: test/demo.test.ts.)
 */

import test from 'ava';
import { BindError, bindPort, unbindPort } from '../src/driver';
import { keys } from '../src/protocol/keys';
import { startSystem, until } from './helpers/system';

const alive = (s: { client: { get(k: string): { string(): Promise<string | null> } }; host: string }) =>
  until(async () => (await s.client.get(keys.agent(s.host)).string()) !== null, 'agent liveness key');

test('flat and VLAN bind give the vif details; unbind frees the vhost and removes the port keys', async (t) => {
  const s = await startSystem(t, { agent: false });
  s.spawnAgent();
  await alive(s);
  const flat = await bindPort(s.client, { host: s.host, portId: 'p-flat', mac: 'fa:16:3e:10:00:01', physicalNetwork: 'phys1', timeoutMs: 10_000 });
  t.deepEqual(flat, {
    vif_type: 'vhostuser',
    vif_details: { port_filter: false, vhostuser_mode: 'server', vhostuser_socket: '/tmp/sock0' },
    vhost_id: 0,
    physical_network: 'phys1',
    status: 'ACTIVE',
  });
  const vlan = await bindPort(s.client, { host: s.host, portId: 'p-vlan', mac: 'fa:16:3e:10:00:02', physicalNetwork: 'phys2', vlanId: 200, timeoutMs: 10_000 });
  t.is(vlan.vif_details.vhostuser_socket, '/tmp/sock2');
  t.deepEqual((await s.vfStatus(2)).classifier_table, [{ type: 'vlan', value: '200/FA:16:3E:10:00:02', port: 'ring:4' }]);

  await unbindPort(s.client, { host: s.host, portId: 'p-vlan', wait: true, timeoutMs: 10_000 });
  t.is(await s.client.get(keys.vhost(s.host, 'phys2', 2)).string(), 'None');
  t.deepEqual(
    Object.keys(await s.keys()).filter((k) => k.includes('p-vlan')),
    [],
  );
  t.deepEqual((await s.vfStatus(2)).classifier_table, []);
});

test('four ports over two NICs; a fifth bind on a full physical network fails with "no free vhost"', async (t) => {
  const s = await startSystem(t, { agent: false });
  s.spawnAgent();
  await alive(s);
  const got = [];
  for (const [i, phys] of (['phys1', 'phys1', 'phys2', 'phys2'] as const).entries()) {
    got.push((await bindPort(s.client, { host: s.host, portId: `p${i}`, mac: `fa:16:3e:20:00:0${i}`, physicalNetwork: phys, timeoutMs: 10_000 })).vhost_id);
  }
  t.deepEqual(got, [0, 1, 2, 3]);
  const err = await t.throwsAsync(bindPort(s.client, { host: s.host, portId: 'p4', mac: 'fa:16:3e:20:00:04', physicalNetwork: 'phys1', timeoutMs: 10_000 }));
  t.true(err instanceof BindError && err.code === 'no_free_vhost', String(err));
  t.regex(err!.message, /no free vhost/);
});

test('16 parallel binds on a host with 8 vhosts: 8 distinct vhosts up, 8 clear failures', async (t) => {
  // 8 vhosts on one NIC exceed the real spp-ctl's status limit: lenient emulator
  const s = await startSystem(t, { agent: false, mappings: '00:04.0#phys1#8#0xffffe', emulator: { lenient: true } });
  s.spawnAgent();
  await alive(s);
  const results = await Promise.allSettled(
    Array.from({ length: 16 }, (_, i) =>
      bindPort(s.client, {
        host: s.host,
        portId: `par-${i}`,
        mac: `fa:16:3e:30:00:${i.toString(16).padStart(2, '0')}`,
        physicalNetwork: 'phys1',
        timeoutMs: 15_000,
      }),
    ),
  );
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.vhost_id] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as BindError] : []));
  t.deepEqual(
    [...ok].sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7],
  );
  t.is(failed.length, 8);
  t.true(
    failed.every((e) => e.code === 'no_free_vhost'),
    failed.map((e) => e.message).join('; '),
  );
  t.is((await s.vfStatus(1)).classifier_table.length, 8);
});

test('bind with the agent stopped fails fast with "agent down"', async (t) => {
  const s = await startSystem(t, { agent: false });
  s.spawnAgent();
  await alive(s);
  await s.killChild('SIGTERM');
  const started = Date.now();
  const err = await t.throwsAsync(bindPort(s.client, { host: s.host, portId: 'late', mac: 'fa:16:3e:40:00:01', physicalNetwork: 'phys1', timeoutMs: 20_000 }));
  t.true(err instanceof BindError && err.code === 'agent_down', String(err));
  t.regex(err!.message, /--skip-liveness-check/);
  t.true(Date.now() - started < 2000, 'fails fast, not after the 20 s wait');
});
