import test from 'ava';
import { applyCommand, emptyStatus, observeVhost } from '../src/plan/observed';
import { FREE_KEEP_TAGS, FREE_RESET_TAGS, planLayout, planVhost } from '../src/plan/planner';
import { hostLayout, targetsOf } from '../src/protocol/layout';
import { describeCommand, type SppCommand } from '../src/sppctl/commands';
import type { VfStatus } from '../src/sppctl/wire';

const config = [
  { pci_address: '00:04.0', physical_network: 'phys1', num_vhost: 2, core_mask: '0xfe' },
  { pci_address: '00:05.0', physical_network: 'phys2', num_vhost: 2, core_mask: '0xfc02' },
];
const [nic0, nic1] = hostLayout(config);

const text = (cmds: SppCommand[]): string[] => cmds.map((c) => describeCommand(c).replace(/^vf \d+: /, ''));
const run = (status: VfStatus, cmds: SppCommand[]): VfStatus => cmds.reduce(applyCommand, status);

function built(nic = nic0!): VfStatus {
  const workers = [...nic.components.map((c) => c.core)];
  const empty = emptyStatus(nic.secId, workers, [`phy:${nic.index}`]);
  return run(empty, planLayout(nic, empty));
}

test('the layout of an empty vf is the spec table: starts in order, then every attach', (t) => {
  const empty = emptyStatus(1, [2, 3, 4, 5, 6, 7], ['phy:0']);
  t.deepEqual(text(planLayout(nic0!, empty)), [
    'component start forward_0_tx 2 forward',
    'component start forward_0_rx 3 forward',
    'component start forward_1_tx 4 forward',
    'component start forward_1_rx 5 forward',
    'component start classifier 6 classifier_mac',
    'component start merger 7 merge',
    'port add ring:0 rx forward_0_tx',
    'port add vhost:0 tx forward_0_tx',
    'port add vhost:0 rx forward_0_rx',
    'port add ring:1 tx forward_0_rx',
    'port add ring:2 rx forward_1_tx',
    'port add vhost:1 tx forward_1_tx',
    'port add vhost:1 rx forward_1_rx',
    'port add ring:3 tx forward_1_rx',
    'port add phy:0 rx classifier',
    'port add ring:0 tx classifier',
    'port add ring:2 tx classifier',
    'port add ring:1 rx merger',
    'port add ring:3 rx merger',
    'port add phy:0 tx merger',
  ]);
});

test('the second NIC uses its own cores, vhost ids 2-3 and rings 4-7', (t) => {
  const cmds = text(planLayout(nic1!, emptyStatus(2, [10, 11, 12, 13, 14, 15])));
  t.true(cmds.includes('component start forward_2_tx 10 forward'));
  t.true(cmds.includes('component start merger 15 merge'));
  t.true(cmds.includes('port add ring:4 tx classifier'));
  t.true(cmds.includes('port add phy:1 tx merger'));
});

test('a built layout plans nothing (idempotent), and a half-built one only the rest', (t) => {
  const full = built();
  t.deepEqual(planLayout(nic0!, full), []);
  const cmds = planLayout(nic0!, emptyStatus(1, [2, 3, 4, 5, 6, 7], ['phy:0']));
  const half = run(emptyStatus(1, [2, 3, 4, 5, 6, 7], ['phy:0']), cmds.slice(0, 9));
  t.deepEqual(planLayout(nic0!, half), cmds.slice(9));
});

test('flat plug is one classifier add; flat unplug one del (spec sequences)', (t) => {
  const s0 = built();
  const plug = planVhost(nic0!, 0, { mac: 'fa:16:3e:a0:da:db' }, s0);
  t.deepEqual(text(plug), ['classifier_table add mac fa:16:3e:a0:da:db ring:0']);
  const s1 = run(s0, plug);
  t.deepEqual(observeVhost(s1, targetsOf(nic0!, 0)).rule, { mac: 'fa:16:3e:a0:da:db' });
  t.deepEqual(planVhost(nic0!, 0, { mac: 'FA:16:3E:A0:DA:DB' }, s1), [], 'MAC case does not matter');
  t.deepEqual(text(planVhost(nic0!, 0, FREE_KEEP_TAGS, s1)), ['classifier_table del mac fa:16:3e:a0:da:db ring:0']);
  t.deepEqual(text(planVhost(nic0!, 0, FREE_RESET_TAGS, s1)), ['classifier_table del mac fa:16:3e:a0:da:db ring:0'], 'a flat vhost has no tags to reset');
});

test('VLAN plug re-attaches both ports with tag operations, then adds the vlan entry', (t) => {
  const s0 = built();
  const plug = planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:01', vlan: 100 }, s0);
  t.deepEqual(text(plug), [
    'port del vhost:1 rx forward_1_rx',
    'port add vhost:1 rx forward_1_rx add_vlantag 100 0',
    'port del ring:2 tx classifier',
    'port add ring:2 tx classifier del_vlantag',
    'classifier_table add vlan 100 fa:16:3e:00:00:01 ring:2',
  ]);
  const s1 = run(s0, plug);
  t.deepEqual(planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:01', vlan: 100 }, s1), []);
  t.deepEqual(text(planVhost(nic0!, 1, FREE_RESET_TAGS, s1)), [
    'port del vhost:1 rx forward_1_rx',
    'port add vhost:1 rx forward_1_rx',
    'port del ring:2 tx classifier',
    'port add ring:2 tx classifier',
    'classifier_table del vlan 100 fa:16:3e:00:00:01 ring:2',
  ]);
});

test('a changed MAC or VLAN removes the old entry before adding the new one', (t) => {
  const s1 = run(built(), planVhost(nic0!, 0, { mac: 'fa:16:3e:00:00:01', vlan: 100 }, built()));
  t.deepEqual(text(planVhost(nic0!, 0, { mac: 'fa:16:3e:00:00:02', vlan: 100 }, s1)), [
    'classifier_table del vlan 100 fa:16:3e:00:00:01 ring:0',
    'classifier_table add vlan 100 fa:16:3e:00:00:02 ring:0',
  ]);
  t.deepEqual(text(planVhost(nic0!, 0, { mac: 'fa:16:3e:00:00:01', vlan: 200 }, s1)), [
    'port del vhost:0 rx forward_0_rx',
    'port add vhost:0 rx forward_0_rx add_vlantag 200 0',
    'classifier_table del vlan 100 fa:16:3e:00:00:01 ring:0',
    'classifier_table add vlan 200 fa:16:3e:00:00:01 ring:0',
  ]);
});

test('a layout rebuilt for a VLAN port attaches its ports with the tag operations directly', (t) => {
  const empty = emptyStatus(1, [2, 3, 4, 5, 6, 7], ['phy:0']);
  const cmds = text(planLayout(nic0!, empty, new Map([[0, { mac: 'fa:16:3e:00:00:01', vlan: 7 }]])));
  t.true(cmds.includes('port add vhost:0 rx forward_0_rx add_vlantag 7 0'));
  t.true(cmds.includes('port add ring:0 tx classifier del_vlantag'));
  const s = run(empty, planLayout(nic0!, empty, new Map([[0, { mac: 'fa:16:3e:00:00:01', vlan: 7 }]])));
  t.deepEqual(text(planVhost(nic0!, 0, { mac: 'fa:16:3e:00:00:01', vlan: 7 }, s)), ['classifier_table add vlan 7 fa:16:3e:00:00:01 ring:0']);
});

test('observed status as spp-ctl prints it (upper-case MAC, vid/MAC) is understood', (t) => {
  const s = built();
  const withEntries: VfStatus = {
    ...s,
    classifier_table: [
      { type: 'vlan', value: '100/FA:16:3E:00:00:01', port: 'ring:0' },
      { type: 'mac', value: 'FA:16:3E:00:00:02', port: 'ring:2' },
    ],
  };
  t.deepEqual(observeVhost(withEntries, targetsOf(nic0!, 0)).rule, { mac: 'fa:16:3e:00:00:01', vlan: 100 });
  t.deepEqual(observeVhost(withEntries, targetsOf(nic0!, 1)).rule, { mac: 'fa:16:3e:00:00:02' });
});

test('a free vhost keeps its VLAN tags: unplug 1 command, re-plug 1 with the same VLAN, 3 with another', (t) => {
  const vlan100 = { mac: 'fa:16:3e:00:00:01', vlan: 100 };
  const plugged = run(built(), planVhost(nic0!, 1, vlan100, built()));
  const unplug = planVhost(nic0!, 1, FREE_KEEP_TAGS, plugged);
  t.deepEqual(text(unplug), ['classifier_table del vlan 100 fa:16:3e:00:00:01 ring:2']);
  const free = run(plugged, unplug);
  t.deepEqual(planVhost(nic0!, 1, FREE_KEEP_TAGS, free), [], 'a free vhost with tags needs nothing');
  t.deepEqual(text(planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:09', vlan: 100 }, free)), ['classifier_table add vlan 100 fa:16:3e:00:00:09 ring:2']);
  t.deepEqual(text(planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:09', vlan: 200 }, free)), [
    'port del vhost:1 rx forward_1_rx',
    'port add vhost:1 rx forward_1_rx add_vlantag 200 0',
    'classifier_table add vlan 200 fa:16:3e:00:00:09 ring:2',
  ]);
});

test('a flat plug on a vhost that still has tags removes them before the entry', (t) => {
  const free = run(built(), planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:01', vlan: 100 }, built()));
  const unplugged = run(free, planVhost(nic0!, 1, FREE_KEEP_TAGS, free));
  t.deepEqual(text(planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:09' }, unplugged)), [
    'port del vhost:1 rx forward_1_rx',
    'port add vhost:1 rx forward_1_rx',
    'port del ring:2 tx classifier',
    'port add ring:2 tx classifier',
    'classifier_table add mac fa:16:3e:00:00:09 ring:2',
  ]);
});

test("a layout build leaves the tags of attached ports alone and attaches a free vhost's missing port untagged", (t) => {
  const tagged = run(built(), planVhost(nic0!, 1, { mac: 'fa:16:3e:00:00:01', vlan: 100 }, built()));
  const free = run(tagged, planVhost(nic0!, 1, FREE_KEEP_TAGS, tagged));
  t.deepEqual(planLayout(nic0!, free), [], 'nothing is missing: no command, tags or not');
  t.deepEqual(planLayout(nic0!, free, new Map([[1, FREE_KEEP_TAGS]])), []);
  t.deepEqual(planLayout(nic0!, free, new Map([[1, { mac: 'fa:16:3e:00:00:01' }]])), [], "a flat port's tag removal is its own plan");
  // cut short between detach and attach: the layout re-attaches, with the tag only a plugged VLAN port asks for
  const detached = run(free, [{ op: 'port_detach', secId: 1, component: 'forward_1_rx', port: 'vhost:1', dir: 'rx' }]);
  t.deepEqual(text(planLayout(nic0!, detached, new Map([[1, FREE_KEEP_TAGS]]))), ['port add vhost:1 rx forward_1_rx']);
  t.deepEqual(text(planLayout(nic0!, detached, new Map([[1, { mac: 'fa:16:3e:00:00:01', vlan: 300 }]]))), [
    'port add vhost:1 rx forward_1_rx add_vlantag 300 0',
  ]);
});
