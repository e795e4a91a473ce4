import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { parseEtcdctlText } from './helpers/etcd';
import { FIXTURES } from './helpers/fixtures';
import { pyBind, pyUnbind, waitForValue, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, requests, startSystem, until } from './helpers/system';

/** JSON values (configuration, bind_port) compared by content: key order and spacing are formatting. */
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : v && typeof v === 'object'
      ? Object.fromEntries(
          Object.entries(v)
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([k, x]) => [k, canonical(x)]),
        )
      : v;
const normalised = (kv: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(kv).map(([k, v]) => [k, k.includes('/configuration/') || k.includes('/bind_port/') ? JSON.stringify(canonical(JSON.parse(v))) : v]),
  );
const fixture = (name: string): Record<string, string> => normalised(parseEtcdctlText(readFileSync(join(FIXTURES, name), 'utf8')));

const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const MAC = 'fa:16:3e:a0:da:db';

test('flat plug and unplug: exactly the spec requests, and exactly the seed keys before and after', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  t.deepEqual(normalised(await s.keys()), fixture('seed-fresh.etcdctl.txt'));
  s.sim.emulator.clearLog();

  await pyBind(s.client, s.host, { portId: PORT, vhostId: 0, phys: 'phys1', mac: MAC });
  await waitUp(s.client, s.host, PORT);
  t.deepEqual(requests(s), [{ method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'mac', mac_address: MAC, port: 'ring:0' } }]);
  const expected = fixture('seed-one-plugged.etcdctl.txt');
  t.deepEqual(normalised(await s.keys()), expected);
  const table = (await (await fetch(`${s.sim.url}/v1/vfs/1`)).json()) as { classifier_table: unknown[] };
  t.deepEqual(table.classifier_table, [{ type: 'mac', value: MAC.toUpperCase(), port: 'ring:0' }]);

  s.sim.emulator.clearLog();
  await pyUnbind(s.client, s.host, PORT);
  await waitGone(s.client, s.host, PORT);
  t.deepEqual(requests(s), [{ method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'del', type: 'mac', mac_address: MAC, port: 'ring:0' } }]);
  t.deepEqual(normalised(await s.keys()), fixture('seed-fresh.etcdctl.txt'));
});

test('VLAN plug and unplug: re-attach with tag operations, then the vlan entry; the unplug removes the entry and leaves the tags', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  s.sim.emulator.clearLog();
  const port = 'a0000000-0000-0000-0000-000000000001';
  const mac = 'fa:16:3e:00:00:03';
  await pyBind(s.client, s.host, { portId: port, vhostId: 3, phys: 'phys2', mac, vlan: 100 });
  await waitUp(s.client, s.host, port);
  const ports = '/v1/vfs/2/components';
  t.deepEqual(requests(s), [
    { method: 'PUT', path: `${ports}/forward_3_rx/ports`, body: { action: 'detach', port: 'vhost:3', dir: 'rx' } },
    { method: 'PUT', path: `${ports}/forward_3_rx/ports`, body: { action: 'attach', port: 'vhost:3', dir: 'rx', vlan: { operation: 'add', id: 100, pcp: 0 } } },
    { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'detach', port: 'ring:6', dir: 'tx' } },
    { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'attach', port: 'ring:6', dir: 'tx', vlan: { operation: 'del' } } },
    { method: 'PUT', path: '/v1/vfs/2/classifier_table', body: { action: 'add', type: 'vlan', mac_address: mac, port: 'ring:6', vlan: 100 } },
  ]);
  t.is(await s.client.get(keys.bindPort(s.host, port)).string(), `{"vhost_id": 3, "mac_address": "${mac}", "vlan_id": 100}`);

  s.sim.emulator.clearLog();
  await pyUnbind(s.client, s.host, port);
  await waitGone(s.client, s.host, port);
  // the spec's unplug order (tags reset, then the entry) is --unplug-resets-vlan's: test/vlan-reuse.test.ts
  t.deepEqual(requests(s), [
    { method: 'PUT', path: '/v1/vfs/2/classifier_table', body: { action: 'del', type: 'vlan', mac_address: mac, port: 'ring:6', vlan: 100 } },
  ]);
  t.is(await s.client.get(keys.vhost(s.host, 'phys2', 3)).string(), 'None');
  t.deepEqual(
    Object.keys(await s.keys()).filter((k) => k.includes(port)),
    [],
  );
});

test('starting on the seed-one-plugged snapshot with an empty spp_vf builds the layout and adds the MAC of vhost 0', async (t) => {
  const s = await startSystem(t, { agent: false });
  const snapshot = parseEtcdctlText(readFileSync(join(FIXTURES, 'seed-one-plugged.etcdctl.txt'), 'utf8'));
  for (const [k, v] of Object.entries(snapshot)) if (!k.includes('/port_status/')) await s.client.put(k).value(v);
  s.startAgent();
  await waitUp(s.client, s.host, PORT);
  await nicsReady(s);
  const status = (await (await fetch(`${s.sim.url}/v1/vfs/1`)).json()) as { components: Array<{ name?: string }>; classifier_table: unknown[] };
  t.deepEqual(
    status.components.map((c) => c.name),
    ['forward_0_tx', 'forward_0_rx', 'forward_1_tx', 'forward_1_rx', 'classifier', 'merger'],
  );
  t.deepEqual(status.classifier_table, [{ type: 'mac', value: 'FA:16:3E:A0:DA:DB', port: 'ring:0' }]);
  const r = requests(s);
  t.is(r.filter((x) => x.path === '/v1/vfs/1/classifier_table').length, 1, 'one classifier add, no repeat');
  t.is(r.filter((x) => x.method === 'POST').length, 12, 'six components per vf, each started once');
});

test('re-plug after unplug, a MAC change on a plugged vhost, and a quick plug/unplug/plug flip end in the last state', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  const port = 'b0000000-0000-0000-0000-000000000001';
  await pyBind(s.client, s.host, { portId: port, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:00:01' });
  await waitUp(s.client, s.host, port);
  await pyUnbind(s.client, s.host, port);
  await waitGone(s.client, s.host, port);
  await pyBind(s.client, s.host, { portId: port, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:00:01' });
  await waitUp(s.client, s.host, port);

  // neutron does not change a bound port's MAC, but an operator editing etcd may
  await s.client.put(keys.bindPort(s.host, port)).value('{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:09"}');
  const table = async (): Promise<unknown[]> => ((await (await fetch(`${s.sim.url}/v1/vfs/1`)).json()) as { classifier_table: unknown[] }).classifier_table;
  await until(async () => JSON.stringify(await table()).includes('FA:16:3E:00:00:09'), 'new MAC in the classifier');
  t.deepEqual(await table(), [{ type: 'mac', value: 'FA:16:3E:00:00:09', port: 'ring:2' }]);

  // slow spp-ctl down so that the flips land while the unplug's command is in flight
  s.sim.emulator.setLatency(300);
  for (const v of ['unplug', 'plug', 'unplug', 'plug']) await s.client.put(keys.action(s.host, port)).value(v);
  s.sim.emulator.setLatency(0);
  await waitForValue(s.client, keys.action(s.host, port), (v) => v === 'plug');
  await waitUp(s.client, s.host, port);
  await s.agent!.controller.idle();
  // the unplug cleanup is conditional on the action still being unplug, so the last plug survives it
  t.is(await s.client.get(keys.vhost(s.host, 'phys1', 1)).string(), port);
  t.deepEqual(await table(), [{ type: 'mac', value: 'FA:16:3E:00:00:09', port: 'ring:2' }]);
});
