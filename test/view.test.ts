import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { groupHostViews } from '../src/setup/view';
import { compactRanges, hostProblems, renderConfigShow, renderStatus } from '../src/setup/view-text';
import { parseEtcdctlText } from './helpers/etcd';
import { FIXTURES } from './helpers/fixtures';

const fixture = (name: string) => parseEtcdctlText(readFileSync(join(FIXTURES, name), 'utf8'));
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';

test('the one-plugged seed groups into one host with one bound port and no problems', (t) => {
  const view = groupHostViews(fixture('seed-one-plugged.etcdctl.txt'));
  t.deepEqual(view.strayKeys, []);
  t.is(view.hosts.length, 1);
  const h = view.hosts[0]!;
  t.is(h.host, 'spp4');
  t.false(h.agentAlive);
  t.true(h.configuration?.ok);
  t.deepEqual(h.validation, { errors: [], warnings: [] });
  t.deepEqual(
    h.layout?.map((n) => n.secId),
    [1, 2],
  );
  t.deepEqual(
    h.vhosts.map((v) => [v.vhostId, v.phys, v.owner.ok && (v.owner.value.free ? 'free' : v.owner.value.portId), v.nicIndex]),
    [
      [0, 'phys1', PORT, 0],
      [1, 'phys1', 'free', 0],
      [2, 'phys2', 'free', 1],
      [3, 'phys2', 'free', 1],
    ],
  );
  t.is(h.ports.length, 1);
  const p = h.ports[0]!;
  t.like(p, { portId: PORT, vhostKeys: ['/spp/openstack/vhost/spp4/phys1/0'], problems: [] });
  t.like(p.bindPort, { ok: true, value: { vhost_id: 0, mac_address: 'fa:16:3e:a0:da:db' } });
  t.like(p.action, { ok: true, value: 'plug' });
  t.like(p.portStatus, { ok: true, value: 'up' });
  t.deepEqual(hostProblems(h), []);
});

test('bad values are kept with their error; no key is dropped', (t) => {
  const input: Record<string, string> = {
    ...fixture('seed-fresh.etcdctl.txt'),
    '/spp/openstack/vhost/spp4/phys1/1': 'null',
    '/spp/openstack/vhost/spp4/phys1/x': 'None',
    '/spp/openstack/bind_port/spp4/p2': '{"vhost_id": 1, "mac_address": "fa:16:3e:a0:da", "vlan_id": 5000}',
    '/spp/openstack/action/spp4/p2': 'plugged',
    '/spp/openstack/port_status/spp4/p2': 'down',
    '/spp/openstack/agent/spp4': 'not json',
    '/spp/openstack/configuration/h2': '[{"pci_address": "00:04.0"}]',
    '/spp/other': 'x',
  };
  const view = groupHostViews(input);
  t.deepEqual(view.strayKeys, [{ key: '/spp/other', raw: 'x', error: 'not a networking-spp protocol key' }]);
  const h = view.hosts.find((x) => x.host === 'spp4')!;
  t.true(h.agentAlive, 'a liveness key is there, even if its value is bad');
  const problems = hostProblems(h);
  t.true(problems.includes('/spp/openstack/vhost/spp4/phys1/1: must be "None" (exactly) or a port id, got "null"'));
  t.true(problems.includes('/spp/openstack/action/spp4/p2: must be "plug" or "unplug", got "plugged"'));
  t.true(problems.includes('/spp/openstack/port_status/spp4/p2: must be "up" or "error: <reason>", got "down"'));
  t.true(problems.some((p) => p.startsWith('/spp/openstack/bind_port/spp4/p2: field mac_address: "fa:16:3e:a0:da" is not a MAC address')));
  t.true(problems.some((p) => p.startsWith('/spp/openstack/agent/spp4: not valid JSON')));
  t.true(problems.includes('/spp/openstack/vhost/spp4/phys1/x: the vhost id "x" is not an integer >= 0; ignored as stray (value "None")'));
  const h2 = view.hosts.find((x) => x.host === 'h2')!;
  t.false(h2.configuration!.ok);
  t.deepEqual(hostProblems(h2), [
    '/spp/openstack/configuration/h2: field 0.physical_network: is missing; field 0.num_vhost: is missing; field 0.core_mask: is missing',
  ]);
  // Every input key appears somewhere in the view.
  const seen = JSON.stringify(view);
  for (const key of Object.keys(input)) t.true(seen.includes(JSON.stringify(key)), key);
});

test('cross-checks: claims without bind_port, bind_port naming another vhost, vhosts outside the configuration', (t) => {
  const view = groupHostViews({
    ...fixture('seed-fresh.etcdctl.txt'),
    '/spp/openstack/vhost/spp4/phys1/0': 'p1',
    '/spp/openstack/vhost/spp4/phys1/1': 'p2',
    '/spp/openstack/bind_port/spp4/p2': '{"vhost_id": 3, "mac_address": "fa:16:3e:a0:da:db"}',
    '/spp/openstack/vhost/spp4/phys1/7': 'None',
    '/spp/openstack/vhost/spp4/phys1/2': 'None',
    '/spp/openstack/action/spp4/p3': 'plug',
  });
  t.deepEqual(hostProblems(view.hosts[0]!), [
    '/spp/openstack/vhost/spp4/phys1/0: claimed by port p1, which has no bind_port (a bind in progress, or a leaked claim)',
    '/spp/openstack/vhost/spp4/phys1/1: claimed by port p2, whose bind_port names vhost 3',
    '/spp/openstack/vhost/spp4/phys1/2: /spp/openstack/configuration/spp4 puts vhost 2 under physical network phys2',
    '/spp/openstack/vhost/spp4/phys1/7: vhost 7 is not in /spp/openstack/configuration/spp4',
    'port p2: bind_port names vhost 3, but /spp/openstack/vhost/spp4/phys2/3 = None',
    'port p3: has an action but no bind_port (the agent ignores it)',
  ]);
});

test('a host filter keeps only that host and drops keys of no host', (t) => {
  const input = { ...fixture('seed-fresh.etcdctl.txt'), '/spp/openstack/configuration/other': '[]', '/spp/x': '1' };
  const view = groupHostViews(input, 'spp4');
  t.deepEqual(
    view.hosts.map((h) => h.host),
    ['spp4'],
  );
  t.deepEqual(view.strayKeys, []);
  t.deepEqual(groupHostViews(input, 'nope').hosts, []);
});

test('text renderings show the layout, owners and problems', (t) => {
  const view = groupHostViews({ ...fixture('seed-one-plugged.etcdctl.txt'), '/spp/openstack/action/spp4/p9': 'x' });
  const show = renderConfigShow(view.hosts[0]!);
  t.true(show.includes('mappings:      00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02'));
  t.true(show.includes('  classifier    classifier_mac  14    phy:1          ring:4,ring:6'));
  t.true(show.includes(`  0      phys1             0    ${PORT}  /spp/openstack/vhost/spp4/phys1/0`));
  t.true(show.includes('  1 of 4 vhost(s) in use'));
  const status = renderStatus(view);
  t.true(status.startsWith('/spp at revision ?: 1 host(s)\n'));
  t.true(status.includes('host spp4: agent not running (no key /spp/openstack/agent/spp4)'));
  t.true(status.includes(`  0      phys1             ${PORT}  fa:16:3e:a0:da:db flat  plug    up`));
  t.true(status.includes('    p9    -        INVALID  -'));
  t.true(status.includes('    - /spp/openstack/action/spp4/p9: must be "plug" or "unplug", got "x"'));
  t.is(compactRanges([7, 2, 3, 4, 10]), '2-4,7,10');
});
