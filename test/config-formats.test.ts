import test from 'ava';
import { readConfiguration } from '../src/agent/host-state';
import { decodeJson } from '../src/protocol/codecs';
import { CONFIGURATION_SHAPES, ConfigurationValue, encodeConfiguration } from '../src/protocol/configuration';
import { hostLayout, withDefaultComponents } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { chooseFormat } from '../src/setup/config-format';
import { groupHostViews } from '../src/setup/view';

const C = '/spp/openstack/configuration/spp4';
const SEED = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02').configuration!;
const LEGACY = '[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0xfe"}]';

/** The value networking-spp's final spp-config-build.py writes for 00:04.0#phys1#2#0xfe (py3.7 key order). */
const FINAL =
  '{"vf": [{"physical_network": "phys1", "pci_address": "00:04.0", "num_vhost": 2, "core_mask": "0xfe", "components": [' +
  '{"core": 2, "type": "forward", "name": "forward_0_tx", "rx_port": ["ring:0"], "tx_port": ["vhost:0"]}, ' +
  '{"core": 3, "type": "forward", "name": "forward_0_rx", "rx_port": ["vhost:0"], "tx_port": ["ring:1"]}, ' +
  '{"core": 4, "type": "forward", "name": "forward_1_tx", "rx_port": ["ring:2"], "tx_port": ["vhost:1"]}, ' +
  '{"core": 5, "type": "forward", "name": "forward_1_rx", "rx_port": ["vhost:1"], "tx_port": ["ring:3"]}, ' +
  '{"core": 6, "type": "classifier_mac", "name": "classifier", "rx_port": ["phy:0"], "tx_port": ["ring:0", "ring:2"]}, ' +
  '{"core": 7, "type": "merge", "name": "merger", "rx_port": ["ring:1", "ring:3"], "tx_port": ["phy:0"]}]}]}';

const err = (d: { ok: boolean; error?: string }): string | undefined => (d.ok ? undefined : d.error);

test('both shapes decode to the same NICs, each with its format', (t) => {
  const legacy = decodeJson(ConfigurationValue, C, LEGACY);
  const final = decodeJson(ConfigurationValue, C, FINAL);
  t.true(legacy.ok && final.ok);
  if (!legacy.ok || !final.ok) return;
  t.is(legacy.value.format, 'legacy');
  t.is(final.value.format, 'final');
  t.is(final.value.vf[0]!.components!.length, 6);
  t.deepEqual({ ...final.value.vf[0], components: undefined }, { ...legacy.value.vf[0], components: undefined });
  t.is(final.value.mirror, undefined);
});

test('the final object without components, or with a mirror list, decodes; the mirror is kept', (t) => {
  const d = decodeJson(
    ConfigurationValue,
    C,
    '{"mirror": [{"core": 16, "ports": ["ring:4", "ring:5"]}], "vf": [{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0xfe"}]}',
  );
  t.true(d.ok, err(d));
  if (!d.ok) return;
  t.deepEqual(d.value.mirror, [{ core: 16, ports: ['ring:4', 'ring:5'] }]);
  t.is(d.value.vf[0]!.components, undefined);
  t.is(
    encodeConfiguration(d.value),
    '{"vf": [{"physical_network": "phys1", "pci_address": "00:04.0", "num_vhost": 2, "core_mask": "0xfe"}], "mirror": [{"core": 16, "ports": ["ring:4", "ring:5"]}]}',
  );
});

test('a value of neither shape names the key and both accepted shapes; fields inside are named', (t) => {
  for (const raw of ['{"nics": []}', '"phys1"', '7', 'null']) {
    const d = decodeJson(ConfigurationValue, C, raw);
    t.false(d.ok, raw);
    t.true(err(d)!.startsWith(`${C}: must be ${CONFIGURATION_SHAPES}, got `), err(d));
  }
  t.true(CONFIGURATION_SHAPES.includes('JSON array') && CONFIGURATION_SHAPES.includes('{"vf": ['));
  t.is(err(decodeJson(ConfigurationValue, C, '{"vf": {}}')), `${C}: field vf: must be a JSON array of NIC objects, got {}`);
  t.is(err(decodeJson(ConfigurationValue, C, '{"vf": []}')), `${C}: field vf: must list at least one NIC`);
  const badComponent = FINAL.replace('{"core": 3, "type"', '{"core": "3", "type"');
  t.is(err(decodeJson(ConfigurationValue, C, badComponent)), `${C}: field vf.0.components.1.core: must be an integer 0-127, got "3"`);
  t.is(
    err(
      decodeJson(
        ConfigurationValue,
        C,
        '{"vf": [{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0xfe"}], "mirror": [{"core": 1}]}',
      ),
    ),
    `${C}: field mirror.0.ports: is missing`,
  );
});

test('the default components are exactly what the final set-up script writes', (t) => {
  const one = [SEED[0]!];
  t.is(encodeConfiguration({ format: 'final', vf: withDefaultComponents(one) }), FINAL);
  t.is(encodeConfiguration({ format: 'legacy', vf: withDefaultComponents(one) }), LEGACY, 'the array never carries components');
  // the second NIC's components continue the host-wide vhost numbering and use phy:1
  const second = withDefaultComponents(SEED)[1]!.components!;
  t.deepEqual(
    second.map((c) => `${c.name}@${c.core}:${c.rx_port.join('+')}>${c.tx_port.join('+')}`),
    [
      'forward_2_tx@10:ring:4>vhost:2',
      'forward_2_rx@11:vhost:2>ring:5',
      'forward_3_tx@12:ring:6>vhost:3',
      'forward_3_rx@13:vhost:3>ring:7',
      'classifier@14:phy:1>ring:4+ring:6',
      'merger@15:ring:5+ring:7>phy:1',
    ],
  );
});

test('the agent reads both shapes: c33920f layout from the array, the final layout from the object', (t) => {
  const legacy = readConfiguration('spp4', LEGACY);
  const final = readConfiguration('spp4', FINAL);
  t.is(legacy.state, 'valid');
  t.is(final.state, 'valid');
  if (legacy.state !== 'valid' || final.state !== 'valid') return;
  t.is(legacy.format, 'legacy');
  t.is(final.format, 'final');
  const type = (l: typeof legacy, name: string) => l.layout[0]!.components.find((c) => c.name === name)?.type;
  t.is(type(legacy, 'forward_0_tx'), 'forward');
  t.is(type(final, 'forward_0_tx'), 'merge', 'the final agent starts a vhost-feeding forward as merge');
  t.deepEqual(legacy.layout[0]!.targets[1], {
    vhostId: 1,
    entryPort: 'ring:2',
    untag: { component: 'classifier', port: 'ring:2' },
    tag: { component: 'forward_1_rx', port: 'vhost:1' },
  });
  t.deepEqual(final.layout[0]!.targets[1], {
    vhostId: 1,
    entryPort: 'ring:2',
    untag: { component: 'classifier', port: 'ring:2' },
    tag: { component: 'merger', port: 'ring:3' },
  });
  const bad = readConfiguration('spp4', '{"vf": 3}');
  t.deepEqual(bad, { state: 'invalid', errors: [`${C}: field vf: must be a JSON array of NIC objects, got 3`] });
});

test('spp status / config show views read both shapes and keep the mirror list', (t) => {
  const view = groupHostViews({
    [C]: `${FINAL.slice(0, -1)}, "mirror": [{"core": 16, "ports": ["ring:4", "ring:5"]}]}`,
    '/spp/openstack/configuration/old': LEGACY,
    '/spp/openstack/configuration/bad': '{"x": 1}',
  });
  const [bad, old, spp4] = view.hosts;
  t.is(spp4!.format, 'final');
  t.deepEqual(spp4!.mirror, [{ core: 16, ports: ['ring:4', 'ring:5'] }]);
  t.is(spp4!.layout![0]!.components[0]!.type, 'merge');
  t.is(old!.format, 'legacy');
  t.is(old!.layout![0]!.components[0]!.type, 'forward');
  t.false(bad!.configuration!.ok);
  t.is(bad!.format, undefined);
});

test('hostLayout defaults to the c33920f layout for a plain NIC list', (t) => {
  t.is(hostLayout(SEED)[0]!.components[0]!.type, 'forward');
  t.false(hostLayout(SEED)[0]!.declared);
  t.true(hostLayout(withDefaultComponents(SEED), 'final')[0]!.declared);
});

test('the written format keeps to the other hosts and says why', (t) => {
  const key = (h: string) => `/spp/openstack/configuration/${h}`;
  t.like(chooseFormat('new', {}), { format: 'final' });
  t.regex(chooseFormat('new', {}).reason, /no host in etcd yet/);
  const legacyPeers = chooseFormat('new', { [key('a')]: LEGACY, [key('b')]: LEGACY });
  t.is(legacyPeers.format, 'legacy');
  t.regex(legacyPeers.reason, /other hosts in etcd \(a, b\)/);
  t.is(chooseFormat('new', { [key('a')]: FINAL }).format, 'final');
  t.is(chooseFormat('new', { [key('new')]: LEGACY }).format, 'legacy', 'no other host: this host keeps its shape');
  t.is(chooseFormat('new', { [key('a')]: LEGACY, [key('new')]: FINAL }).format, 'legacy', 'the other hosts win over this host');
  const mixed = chooseFormat('new', { [key('a')]: LEGACY, [key('b')]: FINAL });
  t.is(mixed.format, 'final');
  t.regex(mixed.warning ?? '', /hosts a use the c33920f array and hosts b the final object/);
  t.is(chooseFormat('new', { [key('a')]: LEGACY }, 'final').format, 'final', '--config-format wins');
});
