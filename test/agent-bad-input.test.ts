import test from 'ava';
import { keys } from '../src/protocol/keys';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { startSystem, until } from './helpers/system';

const GOOD = { portId: 'd0000000-0000-0000-0000-00000000000g', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:00:20' };

/** bind_port values that retrying cannot fix, with what the error must name. */
const CASES: Array<{ port: string; bind: string; action?: string; expect: RegExp }> = [
  { port: 'bad-json', bind: '{"vhost_id": 1, "mac_address": ', expect: /bind_port\/spp4\/bad-json: not valid JSON/ },
  { port: 'missing-mac', bind: '{"vhost_id": 1}', expect: /bind_port\/spp4\/missing-mac: field mac_address: .*missing/ },
  { port: 'string-vhost', bind: '{"vhost_id": "1", "mac_address": "fa:16:3e:00:00:21"}', expect: /field vhost_id/ },
  { port: 'vhost-not-here', bind: '{"vhost_id": 9, "mac_address": "fa:16:3e:00:00:22"}', expect: /vhost 9 is not on host spp4/ },
  { port: 'bad-mac', bind: '{"vhost_id": 1, "mac_address": "fa:16:3e:zz:00:23"}', expect: /field mac_address: .*not a MAC address/ },
  { port: 'vlan-zero', bind: '{"vhost_id": 2, "mac_address": "fa:16:3e:00:00:24", "vlan_id": 0}', expect: /field vlan_id: .*1-4094/ },
  { port: 'vlan-4095', bind: '{"vhost_id": 3, "mac_address": "fa:16:3e:00:00:25", "vlan_id": 4095}', expect: /field vlan_id: .*1-4094/ },
  {
    port: 'bad-action',
    bind: '{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:26"}',
    action: 'replug',
    expect: /action\/spp4\/bad-action: must be "plug" or "unplug"/,
  },
  { port: 'long-mac', bind: `{"vhost_id": 1, "mac_address": "${'x'.repeat(3000)}"}`, expect: /field mac_address: .*\.\.\.\(3002 chars\)/ },
  {
    port: 'huge',
    bind: `{"vhost_id": 1, "mac_address": "${'x'.repeat(100_000)}"}`,
    expect: /bind_port\/spp4\/huge: value is 100034 bytes; a bind_port value may have at most 4096 bytes/,
  },
  { port: 'unicode-ポート', bind: '{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:27", "vlan_id": "１００"}', expect: /field vlan_id/ },
];

test('input that retrying cannot fix ends in port_status = error naming the key and field, while a valid port plugged at the same time comes up', async (t) => {
  const s = await startSystem(t);
  await Promise.all([
    pyBind(s.client, s.host, GOOD),
    ...CASES.map(async (c) => {
      await s.client.put(keys.bindPort(s.host, c.port)).value(c.bind);
      await s.client.put(keys.action(s.host, c.port)).value(c.action ?? 'plug');
    }),
  ]);
  await waitUp(s.client, s.host, GOOD.portId);
  for (const c of CASES) {
    const status = await waitForValue(s.client, keys.portStatus(s.host, c.port), (v) => v !== undefined);
    t.true(status!.startsWith('error: '), `${c.port}: ${status}`);
    t.regex(status!, c.expect, c.port);
    t.true(status!.length < 600, `${c.port}: the reported reason is bounded`);
  }
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:00:20', port: 'ring:0' }]);
  t.deepEqual((await s.vfStatus(2)).classifier_table, []);
  const errors = s.logs.filter((r) => r.message === 'port failed');
  t.is(new Set(errors.map((r) => r.port)).size, CASES.length, 'one clear log line per bad port');
  t.true(errors.every((r) => r.host === 'spp4' && typeof r.error === 'string'));
});

test('a fixed bind_port brings a failed port up; keys of other hosts and a broken configuration of another host are ignored', async (t) => {
  const s = await startSystem(t);
  await s.client.put(keys.configuration('other')).value('{not json');
  await s.client.put(keys.bindPort('other', 'x')).value('garbage');
  await s.client.put(keys.action('other', 'x')).value('plug');
  await s.client.put(keys.vhost(s.host, 'phys1', 1)).value('fixme');
  await s.client.put(keys.bindPort(s.host, 'fixme')).value('{"vhost_id": 1, "mac_address": "nope"}');
  await s.client.put(keys.action(s.host, 'fixme')).value('plug');
  await waitForValue(s.client, keys.portStatus(s.host, 'fixme'), (v) => v?.startsWith('error: ') === true);
  await s.client.put(keys.bindPort(s.host, 'fixme')).value('{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:30"}');
  await waitUp(s.client, s.host, 'fixme');
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:00:30', port: 'ring:2' }]);
  t.is(await s.client.get(keys.portStatus('other', 'x')).string(), null, 'another host is not ours to answer');
});

test('an invalid configuration is logged naming the key and NIC, and the agent waits instead of crashing', async (t) => {
  const s = await startSystem(t, { setup: false });
  await s.client.put(keys.configuration(s.host)).value('[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "xfc02"}]');
  const rec = await until(() => s.logs.find((r) => r.message === 'invalid host configuration'), 'invalid configuration logged');
  t.regex(String(rec.error), /configuration\/spp4: .*core_mask.*xfc02/);
  t.is(rec.key, keys.configuration(s.host));
  await s.client.put(keys.configuration(s.host)).value('[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0xfe"}]');
  await s.client.put(keys.vhost(s.host, 'phys1', 0)).value('None');
  await pyBind(s.client, s.host, GOOD);
  await waitUp(s.client, s.host, GOOD.portId);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:00:20', port: 'ring:0' }]);
});
