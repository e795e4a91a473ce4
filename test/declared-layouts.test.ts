import test from 'ava';
import type { ComponentDecl } from '../src/protocol/configuration';
import { hostLayout } from '../src/protocol/layout';
import { validateLayouts } from '../src/protocol/layout-rules';
import { parseMappings } from '../src/protocol/mappings';
import { readComponentFile } from '../src/setup/component-file';
import { parseYamlSubset } from '../src/setup/yaml-subset';
import { call, useSim } from './helpers/emulator';
import { EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML, EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML } from './helpers/upstream-layouts';

const declared = (yaml: string) => {
  const d = readComponentFile('sample.yaml', yaml);
  if (!d.ok) throw new Error(d.error);
  return d.value;
};
const nicsOf = (mappings: string, yaml: string) =>
  parseMappings(mappings, { declaredLayouts: true }).configuration!.map((n, i) => ({ ...n, components: [...declared(yaml).vf[i]!] as ComponentDecl[] }));
const label = (i: number) => `NIC ${i}`;

test('the yaml subset reads both upstream examples as PyYAML does', (t) => {
  const ex2 = parseYamlSubset(EXAMPLE_2_YAML) as { vf: { components: unknown[] }[] };
  t.deepEqual(ex2.vf[0]!.components[0], { core: 6, name: 'classifier', rx_port: ['phy:0'], tx_port: ['vhost:0', 'vhost:1'], type: 'classifier_mac' });
  t.is(ex2.vf.length, 2);
  const ex1 = declared(EXAMPLE_1_YAML);
  t.deepEqual(
    ex1.vf[1]!.map((c) => `${c.name}@${c.core}`),
    ['forward_2_tx@10', 'forward_2_rx@10', 'forward_3_tx@11', 'forward_3_rx@11', 'classifier@12', 'merger@13'],
  );
  // the same as JSON, and flow mappings, comments and quoting as PyYAML reads them
  t.deepEqual(declared(JSON.stringify({ vf: ex1.vf.map((components) => ({ components })) })), ex1);
  t.deepEqual(parseYamlSubset("# c\nmirror: [{core: 16, ports: ['ring:9','ring:10']}]  # x\nname: \"a b\"\nq: 'it''s'\n"), {
    mirror: [{ core: 16, ports: ['ring:9', 'ring:10'] }],
    name: 'a b',
    q: "it's",
  });
});

test('yaml outside the subset, or of the wrong shape, is refused with its line or field', (t) => {
  const anchor = readComponentFile('f.yaml', 'vf:\n- components: &a []\n');
  t.false(anchor.ok);
  if (!anchor.ok) t.regex(anchor.error, /^f\.yaml: not valid YAML .*line 2: "&" \(anchors, aliases, tags, block scalars\) is not supported/);
  const tab = readComponentFile('f.yaml', 'vf:\n\t- x\n');
  if (!tab.ok) t.regex(tab.error, /line 2: tabs are not allowed/);
  const shape = readComponentFile('f.yaml', 'vf:\n- components:\n  - core: two\n    name: c\n    type: merge\n    rx_port: []\n    tx_port: []\n');
  t.false(shape.ok);
  if (!shape.ok) t.is(shape.error, 'f.yaml: field vf.0.components.0.core: must be an integer 0-127, got "two"');
  const noVf = readComponentFile('f.json', '{"mirror": []}');
  if (!noVf.ok) t.is(noVf.error, 'f.json: field vf: is missing');
});

test('example 2 (no forwarders) is valid; its plug targets are the vhosts themselves', (t) => {
  const nics = nicsOf(EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML);
  t.deepEqual(validateLayouts(nics, 'final', label), []);
  const [nic0, nic1] = hostLayout(nics, 'final');
  t.deepEqual(nic1!.targets[0], {
    vhostId: 2,
    entryPort: 'vhost:2',
    untag: { component: 'classifier', port: 'vhost:2' },
    tag: { component: 'merger', port: 'vhost:2' },
  });
  t.deepEqual(
    nic0!.components.map((c) => c.type),
    ['classifier_mac', 'merge'],
  );
});

test('example 1 (shared cores) needs mixed-type cores under the final agent: refused naming the core unless the SPP takes them', (t) => {
  const nics = nicsOf(EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML);
  const errors = validateLayouts(nics, 'final', label);
  t.is(errors.length, 4, errors.join('\n'));
  t.is(
    errors[0],
    'NIC 0: core 2 hosts forward_0_tx (merge, declared forward: the final agent starts a forward into a vhost as merge), forward_0_rx (forward); ' +
      'spp_vf before 18.08.2 refuses two component types on one core (bad value(component type))',
  );
  t.deepEqual(validateLayouts(nics, 'final', label, { mixedCoreTypes: true }), []);
  const [nic0] = hostLayout(nics, 'final');
  t.deepEqual(nic0!.targets[1], {
    vhostId: 1,
    entryPort: 'ring:2',
    untag: { component: 'classifier', port: 'ring:2' },
    tag: { component: 'merger', port: 'ring:3' },
  });
});

test('each declared-layout error names the NIC, the component and the field', (t) => {
  const base = nicsOf(EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML);
  const withNic0 = (components: ComponentDecl[]) => [{ ...base[0]!, components }, base[1]!];
  const cls = (tx: string[], core = 6): ComponentDecl => ({ core, name: 'classifier', type: 'classifier_mac', rx_port: ['phy:0'], tx_port: tx });
  const mrg = (rx: string[], core = 7): ComponentDecl => ({ core, name: 'merger', type: 'merge', rx_port: rx, tx_port: ['phy:0'] });
  const errs = (components: ComponentDecl[]) => validateLayouts(withNic0(components), 'final', label);

  t.deepEqual(errs([cls(['vhost:0', 'vhost:1'], 5), mrg(['vhost:0', 'vhost:1'], 1)]), [
    'NIC 0: component 0 ("classifier") field core: 5 is not in core mask 0xc2 (worker cores 6,7)',
    'NIC 0: component 1 ("merger") field core: 1 is the master core of core mask 0xc2; a component there hangs spp_vf',
  ]);
  t.deepEqual(errs([cls(['vhost:0']), mrg(['vhost:0', 'vhost:1'])]), [
    'NIC 0: vhost:1: no component has it in tx_port; the classifier must reach it (directly or through one forward)',
  ]);
  t.deepEqual(errs([cls(['vhost:0', 'vhost:1', 'vhost:2']), mrg(['vhost:0', 'vhost:1'])]), [
    'NIC 0: component 0 ("classifier") field tx_port: vhost:2 is not a vhost of this NIC (its vhosts are 0,1: numbered across the host, NIC after NIC)',
  ]);
  t.deepEqual(
    errs([cls(['vhost:0', 'vhost:1']), mrg(['vhost:0', 'vhost:1']), { core: 7, name: 'merger', type: 'forward', rx_port: ['ring:9'], tx_port: ['vhost:0'] }]),
    [
      'NIC 0: component 2 ("merger") field name: is also the name of component 1; names must be unique per spp_vf',
      'NIC 0: component 2 ("merger") field tx_port: vhost:0 is already tx of classifier; spp_vf takes a port once per direction (bad value(port rxtx))',
    ],
  );
  t.deepEqual(errs([cls(['vhost:0', 'vhost:1']), { ...mrg(['vhost:0', 'vhost:1']), type: 'merger' }]), [
    'NIC 0: component 1 ("merger") field type: "merger" is not one of forward, merge, classifier_mac',
    'NIC 0: field components: needs exactly one merge component with tx_port [phy:0], has 0',
  ]);
  // a vhost fed by a merge, and drained by a forward whose tx the merger does not read
  const m1: ComponentDecl = { core: 7, name: 'm1', type: 'merge', rx_port: ['ring:0'], tx_port: ['vhost:1'] };
  const f1: ComponentDecl = { core: 7, name: 'f1', type: 'forward', rx_port: ['vhost:1'], tx_port: ['ring:3'] };
  t.deepEqual(errs([cls(['vhost:0', 'ring:0']), mrg(['vhost:0', 'ring:2']), m1, f1]), [
    'NIC 0: component 2 ("m1") field type: feeds vhost:1, so it must be the classifier or a forward',
    'NIC 0: component 3 ("f1") field tx_port: drains vhost:1, so its tx must be an rx port of merger',
    'NIC 0: core 7 hosts merger (merge), m1 (merge), f1 (forward); spp_vf before 18.08.2 refuses two component types on one core (bad value(component type))',
  ]);
  const fwd2rx: ComponentDecl = { core: 7, name: 'f', type: 'forward', rx_port: ['ring:0', 'ring:2'], tx_port: ['vhost:1'] };
  t.deepEqual(errs([cls(['vhost:0', 'ring:0']), mrg(['vhost:0', 'vhost:1']), fwd2rx]), [
    'NIC 0: component 2 ("f") field rx_port: a forward takes exactly 1 rx port, has 2',
  ]);
  t.deepEqual(errs([cls(['vhost:0', 'vhost:1']), { ...mrg(['vhost:0', 'vhost:1']), rx_port: ['vhost:0', 'vhost:1'], tx_port: ['phy:0', 'ring:5'] }]), [
    'NIC 0: component 1 ("merger") field tx_port: a merge takes exactly 1 tx port, has 2',
  ]);
});

test('the emulator refuses two component types on one core unless told the spp_vf takes them (18.08.2)', async (t) => {
  for (const mixed of [false, true]) {
    const sim = await useSim(t, { mixedCoreTypes: mixed });
    const first = await call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'forward_0_tx', core: 2, type: 'merge' });
    t.is(first.status, 204);
    const second = await call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'forward_0_rx', core: 2, type: 'forward' });
    if (mixed) t.is(second.status, 204, second.body);
    else t.deepEqual([second.status, second.body], [400, 'command error: bad value(component type)']);
    const cls = await call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'classifier', core: 2, type: 'classifier_mac' });
    // 18.08 refuses a classifier beside another type as it refuses any mix
    if (mixed) t.is(cls.status, 204, cls.body);
    else t.is(cls.status, 400);
    const status = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: { core: number; type: string }[] };
    t.deepEqual(
      status.components.filter((c) => c.core === 2).map((c) => c.type),
      mixed ? ['merge', 'forward', 'classifier_mac'] : ['merge'],
    );
  }
});
