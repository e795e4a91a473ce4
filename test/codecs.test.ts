import test from 'ava';
import {
  Action,
  AgentInfo,
  BindPort,
  decodeJson,
  decodeText,
  decodeVhostOwner,
  macProblem,
  PortStatus,
  preview,
  pythonJson,
  vlanOf,
} from '../src/protocol/codecs';
import { CONFIGURATION_SHAPES, ConfigurationValue as HostConfiguration } from '../src/protocol/configuration';

const K = '/spp/openstack/bind_port/spp4/p1';
const bind = (raw: string) => decodeJson(BindPort, K, raw);
const err = (d: { ok: boolean; error?: string }): string | undefined => (d.ok ? undefined : d.error);

test('bind_port as the Python driver writes it (", " and ": " separators) decodes', (t) => {
  t.deepEqual(bind('{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}'), {
    ok: true,
    value: { vhost_id: 0, mac_address: 'fa:16:3e:a0:da:db' },
  });
  const vlan = bind('{"vhost_id": 3, "mac_address": "FA:16:3E:A0:DA:DB", "vlan_id": 100}');
  t.true(vlan.ok);
  if (vlan.ok) t.is(vlanOf(vlan.value), 100);
});

test('bind_port: compact JSON, any key order, and vlan_id null read as flat', (t) => {
  const d = bind('{"mac_address":"fa:16:3e:00:00:01","vlan_id":null,"vhost_id":2}');
  t.true(d.ok);
  if (d.ok) t.is(vlanOf(d.value), undefined);
});

test('bind_port with wrong types names each field', (t) => {
  t.is(err(bind('{"vhost_id": "0", "mac_address": "fa:16:3e:a0:da:db"}')), `${K}: field vhost_id: must be a non-negative integer, got "0"`);
  t.is(err(bind('{"vhost_id": 1.5, "mac_address": "fa:16:3e:a0:da:db"}')), `${K}: field vhost_id: must be a non-negative integer, got 1.5`);
  t.is(err(bind('{"vhost_id": -1, "mac_address": "fa:16:3e:a0:da:db"}')), `${K}: field vhost_id: must be a non-negative integer, got -1`);
  t.is(err(bind('{"vhost_id": 0, "mac_address": 5}')), `${K}: field mac_address: expected MAC address, got 5`);
  t.is(err(bind('{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": "100"}')), `${K}: field vlan_id: must be an integer 1-4094, got "100"`);
});

test('bind_port with missing fields says which', (t) => {
  t.is(err(bind('{"mac_address": "fa:16:3e:a0:da:db"}')), `${K}: field vhost_id: is missing`);
  t.is(err(bind('{"vhost_id": 0}')), `${K}: field mac_address: is missing`);
  t.is(err(bind('{}')), `${K}: field vhost_id: is missing; field mac_address: is missing`);
});

test('bind_port that is not a JSON object, or not JSON', (t) => {
  const shape = 'must be a JSON object {"vhost_id": N, "mac_address": "..."[, "vlan_id": V]}';
  t.is(err(bind('[1]')), `${K}: ${shape}, got [1]`);
  t.is(err(bind('null')), `${K}: ${shape}, got null`);
  t.is(err(bind('"x"')), `${K}: ${shape}, got "x"`);
  t.regex(err(bind("{'vhost_id': 0}"))!, /^\/spp\/openstack\/bind_port\/spp4\/p1: not valid JSON \(.*\): "\{'vhost_id': 0\}"$/);
});

test('bind_port with an invalid MAC address', (t) => {
  const mac = (m: string) => err(bind(`{"vhost_id": 0, "mac_address": "${m}"}`));
  t.is(mac('fa:16:3e:a0:da'), `${K}: field mac_address: "fa:16:3e:a0:da" is not a MAC address (six colon-separated hex bytes, e.g. fa:16:3e:a0:da:db)`);
  t.is(mac('fa-16-3e-a0-da-db'), `${K}: field mac_address: "fa-16-3e-a0-da-db" is not a MAC address (six colon-separated hex bytes, e.g. fa:16:3e:a0:da:db)`);
  t.is(mac('00:00:00:00:00:00'), `${K}: field mac_address: MAC 00:00:00:00:00:00 cannot be classified (spp_vf treats it as "no entry")`);
  t.is(mac('00:00:00:00:00:01'), `${K}: field mac_address: MAC 00:00:00:00:00:01 is reserved by spp_vf for the default classifier entry`);
  t.is(mac('01:00:5e:00:00:01'), `${K}: field mac_address: 01:00:5e:00:00:01 is a multicast address; a port needs a unicast MAC`);
  t.is(macProblem('fa:16:3e:a0:da:db'), undefined);
});

test('bind_port VLAN id must be 1-4094', (t) => {
  const vlan = (v: string) => err(bind(`{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": ${v}}`));
  t.is(vlan('0'), `${K}: field vlan_id: must be an integer 1-4094, got 0`);
  t.is(vlan('4095'), `${K}: field vlan_id: must be an integer 1-4094, got 4095`);
  t.is(vlan('-3'), `${K}: field vlan_id: must be an integer 1-4094, got -3`);
  t.is(vlan('1'), undefined);
  t.is(vlan('4094'), undefined);
});

test('several bad fields are reported together', (t) => {
  t.is(
    err(bind('{"vhost_id": 1, "mac_address": "zz", "vlan_id": 5000}')),
    `${K}: field mac_address: "zz" is not a MAC address (six colon-separated hex bytes, e.g. fa:16:3e:a0:da:db); field vlan_id: must be an integer 1-4094, got 5000`,
  );
});

test('vhost value: the text None is free, anything else a port id', (t) => {
  const V = '/spp/openstack/vhost/spp4/phys1/0';
  t.deepEqual(decodeVhostOwner(V, 'None'), { ok: true, value: { free: true } });
  t.deepEqual(decodeVhostOwner(V, '6160c9da-b2d5-4236-8413-7d646e5c0ae2'), {
    ok: true,
    value: { free: false, portId: '6160c9da-b2d5-4236-8413-7d646e5c0ae2' },
  });
  t.is(err(decodeVhostOwner(V, '')), `${V}: must be "None" or a port id, got ""`);
  t.is(err(decodeVhostOwner(V, 'a port')), `${V}: must be "None" or a port id, got "a port"`);
  t.is(err(decodeVhostOwner(V, 'null')), `${V}: must be "None" (exactly) or a port id, got "null"`);
  t.is(err(decodeVhostOwner(V, 'none')), `${V}: must be "None" (exactly) or a port id, got "none"`);
});

test('action values', (t) => {
  const A = '/spp/openstack/action/spp4/p1';
  t.deepEqual(decodeText(Action, A, 'plug'), { ok: true, value: 'plug' });
  t.deepEqual(decodeText(Action, A, 'unplug'), { ok: true, value: 'unplug' });
  t.is(err(decodeText(Action, A, 'Plug')), `${A}: must be "plug" or "unplug", got "Plug"`);
  t.is(err(decodeText(Action, A, '"plug"')), `${A}: must be "plug" or "unplug", got "\\"plug\\""`);
});

test('port_status values: up, or our error: <reason> extension', (t) => {
  const S = '/spp/openstack/port_status/spp4/p1';
  t.deepEqual(decodeText(PortStatus, S, 'up'), { ok: true, value: 'up' });
  t.deepEqual(decodeText(PortStatus, S, 'error: vhost 9 is not on this host'), { ok: true, value: 'error: vhost 9 is not on this host' });
  t.is(err(decodeText(PortStatus, S, 'down')), `${S}: must be "up" or "error: <reason>", got "down"`);
  t.is(err(decodeText(PortStatus, S, 'error: ')), `${S}: must be "up" or "error: <reason>", got "error: "`);
  t.is(err(decodeText(PortStatus, S, 'UP')), `${S}: must be "up" or "error: <reason>", got "UP"`);
});

test('configuration as the seed shows it decodes; wrong shapes are named per NIC and field', (t) => {
  const C = '/spp/openstack/configuration/spp4';
  const seed =
    '[{"num_vhost": 2, "core_mask": "0xfe", "pci_address": "00:04.0", "physical_network": "phys1"}, ' +
    '{"num_vhost": 2, "core_mask": "0xfc02", "pci_address": "00:05.0", "physical_network": "phys2"}]';
  const d = decodeJson(HostConfiguration, C, seed);
  t.true(d.ok);
  if (d.ok)
    t.deepEqual(
      d.value.vf.map((n) => n.physical_network),
      ['phys1', 'phys2'],
    );
  t.is(err(decodeJson(HostConfiguration, C, '[]')), `${C}: must list at least one NIC`);
  t.is(err(decodeJson(HostConfiguration, C, '{"num_vhost": 2}')), `${C}: must be ${CONFIGURATION_SHAPES}, got {"num_vhost":2}`);
  t.is(
    err(decodeJson(HostConfiguration, C, '[5]')),
    `${C}: field 0: must be a JSON object {"pci_address", "physical_network", "num_vhost", "core_mask"}, got 5`,
  );
  t.is(
    err(decodeJson(HostConfiguration, C, '[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": "2", "core_mask": "xfe"}]')),
    `${C}: field 0.num_vhost: must be a positive integer, got "2"; field 0.core_mask: "xfe" is not a hex core mask (e.g. 0xfe)`,
  );
  t.is(
    err(decodeJson(HostConfiguration, C, '[{"pci_address": "4.0", "physical_network": "a/b", "num_vhost": 0, "core_mask": "0xfe"}]')),
    `${C}: field 0.pci_address: "4.0" is not a PCI address (BB:DD.F or DDDD:BB:DD.F, e.g. 00:04.0); ` +
      `field 0.physical_network: "a/b" is not a physical network name (non-empty, no '/' or spaces); ` +
      `field 0.num_vhost: must be a positive integer, got 0`,
  );
});

test('agent liveness value (extension)', (t) => {
  const G = '/spp/openstack/agent/spp4';
  t.true(decodeJson(AgentInfo, G, '{"version": "0.1.0", "started_at": "2026-01-01T00:00:00Z", "pid": 7}').ok);
  t.is(err(decodeJson(AgentInfo, G, '{"version": "0.1.0", "started_at": "x", "pid": "7"}')), `${G}: field pid: must be an integer, got "7"`);
});

test('pythonJson writes what Python json.dumps writes', (t) => {
  t.is(pythonJson({ vhost_id: 0, mac_address: 'fa:16:3e:a0:da:db', vlan_id: undefined }), '{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}');
  t.is(pythonJson([{ a: 1 }, { b: [1, 2] }]), '[{"a": 1}, {"b": [1, 2]}]');
  t.is(preview('x'.repeat(100)), `"${'x'.repeat(59)}...(102 chars)`);
});
