import test from 'ava';
import { bindInputProblem, bindPortValue, formatPortTable, portRows, vhostSlots } from '../src/driver';
import { pythonJson } from '../src/protocol/codecs';

test('vhostSlots orders vhost ids numerically and marks values that are neither None nor a port id', (t) => {
  const slots = vhostSlots({
    '/spp/openstack/vhost/h/phys1/10': 'None',
    '/spp/openstack/vhost/h/phys1/9': 'p9',
    '/spp/openstack/vhost/h/phys1/2': 'None',
    '/spp/openstack/vhost/h/phys1/3': '',
    '/spp/openstack/vhost/h/phys1/x': 'None',
  });
  t.deepEqual(
    slots.map((s) => s.vhostId),
    [2, 3, 9, 10],
  );
  t.deepEqual(slots[0]?.owner, { free: true });
  t.deepEqual(slots[2]?.owner, { free: false, portId: 'p9' });
  t.regex('invalid' in slots[1]!.owner ? slots[1]!.owner.invalid : '', /vhost\/h\/phys1\/3: must be "None" or a port id/);
});

test("bind_port is written in the original's field order and formatting, vlan_id only for VLAN", (t) => {
  t.is(pythonJson(bindPortValue(0, 'fa:16:3e:a0:da:db', undefined)), '{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}');
  t.is(pythonJson(bindPortValue(3, 'fa:16:3e:a0:da:db', 4094)), '{"vhost_id": 3, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 4094}');
});

test('bindInputProblem accepts a good request and names the field of a bad one', (t) => {
  const good = { host: 'h', portId: 'p', mac: 'FA:16:3E:A0:DA:DB', physicalNetwork: 'phys1', vlanId: 1 };
  t.is(bindInputProblem(good), undefined);
  t.regex(bindInputProblem({ ...good, mac: '00:00:00:00:00:00' }) ?? '', /^mac: MAC 00:00:00:00:00:00 cannot be classified/);
  t.regex(bindInputProblem({ ...good, vlanId: 1.5 }) ?? '', /^vlan: must be an integer/);
  t.regex(bindInputProblem({ ...good, host: '' }) ?? '', /invalid host ""/);
  t.regex(bindInputProblem({ ...good, portId: 'a b' }) ?? '', /must not contain whitespace/);
});

test('the port table lists unreadable fields under "problems"', (t) => {
  const rows = portRows({
    '/spp/openstack/bind_port/h/p': '{"vhost_id": 5}',
    '/spp/openstack/action/h/p': 'plug',
  });
  const text = formatPortTable(rows);
  const lines = text.trimEnd().split('\n');
  t.deepEqual(lines[1]?.split(/\s+/), ['h', 'p', '-', '-', '-', '-', 'plug', '-']);
  t.is(lines[3], 'problems:');
  t.regex(lines[4] ?? '', /^ {2}h p bind_port: \/spp\/openstack\/bind_port\/h\/p: field mac_address: is missing$/);
  t.is(formatPortTable([]), 'no ports\n');
});
