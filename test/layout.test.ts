import test from 'ava';
import { componentNames, hostLayout, nicOfVhost, portNames } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';

const seed = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02').configuration!;

test('the seed host gets the layout of the spec table, NIC by NIC', (t) => {
  const [nic0, nic1] = hostLayout(seed);
  t.like(nic0, { index: 0, secId: 1, vhostIds: [0, 1], masterCore: 1 });
  t.deepEqual(nic0!.components, [
    { name: 'forward_0_tx', type: 'forward', core: 2, rx: ['ring:0'], tx: ['vhost:0'] },
    { name: 'forward_0_rx', type: 'forward', core: 3, rx: ['vhost:0'], tx: ['ring:1'] },
    { name: 'forward_1_tx', type: 'forward', core: 4, rx: ['ring:2'], tx: ['vhost:1'] },
    { name: 'forward_1_rx', type: 'forward', core: 5, rx: ['vhost:1'], tx: ['ring:3'] },
    { name: 'classifier', type: 'classifier_mac', core: 6, rx: ['phy:0'], tx: ['ring:0', 'ring:2'] },
    { name: 'merger', type: 'merge', core: 7, rx: ['ring:1', 'ring:3'], tx: ['phy:0'] },
  ]);
  t.like(nic1, { index: 1, secId: 2, vhostIds: [2, 3], masterCore: 1 });
  t.deepEqual(nic1!.components, [
    { name: 'forward_2_tx', type: 'forward', core: 10, rx: ['ring:4'], tx: ['vhost:2'] },
    { name: 'forward_2_rx', type: 'forward', core: 11, rx: ['vhost:2'], tx: ['ring:5'] },
    { name: 'forward_3_tx', type: 'forward', core: 12, rx: ['ring:6'], tx: ['vhost:3'] },
    { name: 'forward_3_rx', type: 'forward', core: 13, rx: ['vhost:3'], tx: ['ring:7'] },
    { name: 'classifier', type: 'classifier_mac', core: 14, rx: ['phy:1'], tx: ['ring:4', 'ring:6'] },
    { name: 'merger', type: 'merge', core: 15, rx: ['ring:5', 'ring:7'], tx: ['phy:1'] },
  ]);
});

test('cores are taken in ascending order even when the mask has gaps', (t) => {
  const [nic] = hostLayout([{ pci_address: '00:04.0', physical_network: 'p', num_vhost: 1, core_mask: '0x1e01' }]);
  t.is(nic!.masterCore, 0);
  t.deepEqual(
    nic!.components.map((c) => [c.name, c.core]),
    [
      ['forward_0_tx', 9],
      ['forward_0_rx', 10],
      ['classifier', 11],
      ['merger', 12],
    ],
  );
});

test('a mask with too few cores has no layout', (t) => {
  t.throws(() => hostLayout([{ pci_address: '00:04.0', physical_network: 'p', num_vhost: 2, core_mask: '0x1e' }]), {
    message: 'NIC 0 (00:04.0): core mask 0x1e has fewer than the 6 occupied cores its layout needs',
  });
});

test('port and component names, and the NIC serving a vhost', (t) => {
  t.is(portNames.toVm(3), 'ring:6');
  t.is(portNames.fromVm(3), 'ring:7');
  t.is(portNames.vhost(3), 'vhost:3');
  t.is(portNames.phy(1), 'phy:1');
  t.is(componentNames.forwardTx(3), 'forward_3_tx');
  t.is(componentNames.forwardRx(3), 'forward_3_rx');
  const layout = hostLayout(seed);
  t.is(nicOfVhost(layout, 2)?.secId, 2);
  t.is(nicOfVhost(layout, 1)?.secId, 1);
  t.is(nicOfVhost(layout, 4), undefined);
});
