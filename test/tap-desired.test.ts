import test from 'ava';
import { type TapFacts, tapIntents } from '../src/plan/tap-desired';
import type { HostConfiguration } from '../src/protocol/configuration';
import { keys } from '../src/protocol/keys';
import { hostLayout, withDefaultComponents } from '../src/protocol/layout';

const H = 'h1';
const nic = { pci_address: '00:04.0', physical_network: 'phys1', num_vhost: 2, core_mask: '0xfe' };
const MIRRORS = [
  { core: 16, ports: ['ring:4', 'ring:5'] },
  { core: 17, ports: ['ring:6', 'ring:7'] },
];
const bind = (v: number) => ({ value: JSON.stringify({ vhost_id: v, mac_address: `fa:16:3e:00:00:0${v + 1}` }), modRevision: 2 });

function facts(config: HostConfiguration, portAction: Record<string, string> = {}): TapFacts {
  const binds: Record<string, { value: string; modRevision: number }> = { svc: bind(0), src: bind(1) };
  return {
    host: H,
    layout: hostLayout(config, 'final'),
    mirrors: MIRRORS,
    mirrorOwners: new Map(),
    port: (p) => ({
      ...(binds[p] ? { bindPort: binds[p] } : {}),
      ...(portAction[p] ? { action: { value: portAction[p]!, modRevision: 3 } } : {}),
    }),
  };
}

const flow = (flowId: string, info: Record<string, unknown>, rev: number, action = 'plug') => ({
  flowId,
  info: { value: JSON.stringify({ service_port: 'svc', source_port: 'src', ...info }), modRevision: rev },
  action: { value: action, modRevision: rev + 1 },
});

test('a layout without forwarders: the flow is invalid, naming the vhost and the missing forwarder', (t) => {
  const flat: HostConfiguration = [
    {
      ...nic,
      components: [
        { core: 2, name: 'classifier', type: 'classifier_mac', rx_port: ['phy:0'], tx_port: ['vhost:0', 'vhost:1'] },
        { core: 3, name: 'merger', type: 'merge', rx_port: ['vhost:0', 'vhost:1'], tx_port: ['phy:0'] },
      ],
    },
  ];
  const intent = tapIntents(facts(flat), [flow('f', { mirror_in: 0, mirror_out: null }, 10)]).get('f')!;
  t.is(intent.kind, 'invalid');
  t.regex(
    intent.kind === 'invalid' ? intent.reason : '',
    /tap_info\/h1\/f: field source_port: the source port's vhost:1 .* no forwarder reading a ring into it/,
  );
});

test('the default final layout: IN resolves to the forwarders and the mirror rings; a port being unplugged turns the flow into an unplug', (t) => {
  const config = withDefaultComponents([nic]);
  const plug = tapIntents(facts(config), [flow('f', { mirror_in: 1, mirror_out: null }, 10)]).get('f')!;
  t.is(plug.kind, 'plug');
  if (plug.kind !== 'plug') return;
  t.deepEqual(plug.flow.source, { portId: 'src', vhostId: 1, secId: 1, feeder: 'forward_1_tx', toVm: 'ring:2', drain: 'forward_1_rx', fromVm: 'ring:3' });
  t.deepEqual(plug.flow.legs, [{ dir: 'IN', mirrorId: 1, component: 'mirror_1', core: 17, serviceRing: 'ring:6', sourceRing: 'ring:7' }]);
  t.is(plug.flow.mirrorSecId, 2);
  const cascade = tapIntents(facts(config, { svc: 'unplug' }), [flow('f', { mirror_in: 1, mirror_out: null }, 10)]).get('f')!;
  t.like(cascade, { kind: 'unplug', cause: 'port', mirrorIds: [1] });
});

test('conflicts: the earlier tap_info keeps a source direction and a mirror; a flow being removed keeps them until it is gone', (t) => {
  const config = withDefaultComponents([nic]);
  const intents = tapIntents(facts(config), [
    flow('late', { mirror_in: 1, mirror_out: null }, 20),
    flow('early', { mirror_in: 0, mirror_out: null }, 10),
    flow('shares', { mirror_in: null, mirror_out: 0 }, 30),
  ]);
  t.is(intents.get('early')!.kind, 'plug');
  t.regex((intents.get('late') as { reason: string }).reason, /tap flow early already mirrors IN of the source port src/);
  t.regex((intents.get('shares') as { reason: string }).reason, /field mirror_out: mirror 0 is used by tap flow early/);
  const leaving = tapIntents(facts(config), [
    flow('old', { mirror_in: 0, mirror_out: null }, 50, 'unplug'),
    flow('new', { mirror_in: 1, mirror_out: null }, 10),
  ]);
  t.is(leaving.get('old')!.kind, 'unplug');
  t.regex((leaving.get('new') as { reason: string }).reason, /tap flow old already mirrors IN/);
});

test('keys: no tap_action is idle; a bad tap_action or tap_info names its key; a mirror claimed by another flow is named', (t) => {
  const config = withDefaultComponents([nic]);
  const f = facts(config);
  const out = tapIntents({ ...f, mirrorOwners: new Map([[0, { value: 'someone-else', modRevision: 4 }]]) }, [
    { flowId: 'noaction', info: { value: '{}', modRevision: 1 } },
    { ...flow('badaction', { mirror_in: 0, mirror_out: null }, 5), action: { value: 'start', modRevision: 6 } },
    { flowId: 'badinfo', info: { value: '{"service_port": 1}', modRevision: 7 }, action: { value: 'plug', modRevision: 8 } },
    flow('claimed', { mirror_in: 0, mirror_out: null }, 9),
  ]);
  t.is(out.get('noaction')!.kind, 'idle');
  t.regex((out.get('badaction') as { reason: string }).reason, new RegExp(`^${keys.tapAction(H, 'badaction')}: must be "plug" or "unplug"`));
  t.regex((out.get('badinfo') as { reason: string }).reason, new RegExp(`^${keys.tapInfo(H, 'badinfo')}: field service_port`));
  t.regex((out.get('claimed') as { reason: string }).reason, /mirror\/h1\/0 is claimed by tap flow someone-else/);
});
