import test from 'ava';
import type { PortKeys, VhostKey } from '../src/agent/host-state';
import { type HostFacts, intentOf, resolveConflicts } from '../src/agent/intent';
import { portKind } from '../src/agent/port-kind';
import { describeIntent } from '../src/agent/view';
import { sameIntent } from '../src/plan/desired';
import type { Kind } from '../src/plan/kind';
import { applyCommand, emptyStatus } from '../src/plan/observed';
import { FREE_KEEP_TAGS, FREE_RESET_TAGS, planLayout, planVhost } from '../src/plan/planner';
import { tapKind } from '../src/plan/tap-kind';
import { pythonJson } from '../src/protocol/codecs';
import { KEY_KINDS } from '../src/protocol/keys';
import { hostLayout, type NicLayout, withDefaultComponents } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import type { VfStatus } from '../src/sppctl/wire';

const seed = parseMappings('00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02').configuration!;
const layouts: ReadonlyArray<readonly [string, NicLayout[]]> = [
  ['c33920f default', hostLayout(seed, 'legacy')],
  ['final default', hostLayout(withDefaultComponents(seed), 'final')],
];

function built(nic: NicLayout): VfStatus {
  const empty = emptyStatus(nic.secId, [...nic.components.map((c) => c.core)], [`phy:${nic.index}`]);
  return planLayout(nic, empty).reduce(applyCommand, empty);
}

const vhostKey = (id: number, owner: string | undefined): VhostKey => ({
  key: `/spp/openstack/vhost/h/phys1/${id}`,
  phys: 'phys1',
  owner: { ok: true, value: owner === undefined ? { free: true } : { free: false, portId: owner } },
  modRevision: 1,
});
const keysOf = (portId: string, vhostId: number, mac: string, action = 'plug', vlan?: number): PortKeys => ({
  host: 'h',
  portId,
  bindPort: {
    value: pythonJson({ vhost_id: vhostId, mac_address: mac, ...(vlan === undefined ? {} : { segmentation_id: vlan, network_type: 'vlan' }) }),
    modRevision: 2,
  },
  action: { value: action, modRevision: 3 },
});

for (const [name, layout] of layouts) {
  test(`${name}: portKind's intents and words are intent.ts's and view.ts's`, (t) => {
    const facts: HostFacts = {
      host: 'h',
      layout,
      vhosts: new Map([
        [0, vhostKey(0, 'A')],
        [1, vhostKey(1, 'B')],
        [2, vhostKey(2, undefined)],
      ]),
      claims: new Map([
        ['A', [0]],
        ['B', [1]],
      ]),
    };
    const ports = [
      keysOf('A', 0, 'FA:16:3E:00:00:0A', 'plug', 100),
      keysOf('B', 1, 'fa:16:3e:00:00:0b', 'unplug'),
      // wants A's vhost: refused, by its own keys and by the conflict
      keysOf('C', 0, 'fa:16:3e:00:00:0c'),
      keysOf('D', 7, 'fa:16:3e:00:00:0d'),
      { host: 'h', portId: 'E' },
    ];
    const expected = resolveConflicts(new Map(ports.map((p) => [p.portId, intentOf(p, facts)])), facts);
    const got = portKind.intents(facts, ports);
    t.deepEqual([...got.keys()], ['A', 'B', 'C', 'D', 'E']);
    t.deepEqual(got, expected);
    t.deepEqual(
      [...got.values()].map((i) => i.kind),
      ['plug', 'unplug', 'invalid', 'invalid', 'idle'],
    );
    for (const intent of got.values()) t.is(portKind.describe(intent), describeIntent(intent));
    t.is(portKind.sameIntent, sameIntent);
  });

  test(`${name}: portKind plans what the planner plans, present and absent`, (t) => {
    for (const nic of layout) {
      const status = built(nic);
      for (const vhostId of nic.vhostIds) {
        for (const rule of [{ mac: 'fa:16:3e:00:00:01' }, { mac: 'fa:16:3e:00:00:02', vlan: 200 }]) {
          for (const free of [FREE_KEEP_TAGS, FREE_RESET_TAGS]) {
            const p = { nic, vhostId, rule, free };
            const present = portKind.plan(p, 'present', status);
            t.deepEqual(present, planVhost(nic, vhostId, rule, status));
            t.true(
              present.some((c) => c.op === 'classifier_add'),
              'a plug on a built vf adds the entry',
            );
            const plugged = present.reduce(applyCommand, status);
            t.deepEqual(portKind.plan(p, 'present', plugged), [], 'planned twice: nothing left');
            const absent = portKind.plan(p, 'absent', plugged);
            t.deepEqual(absent, planVhost(nic, vhostId, free, plugged));
            t.true(absent.some((c) => c.op === 'classifier_del'));
          }
        }
      }
    }
  });

  test(`${name}: a port's slice and draw hints name the layout's own components and ports`, (t) => {
    for (const nic of layout) {
      for (const vhostId of nic.vhostIds) {
        const p = { nic, vhostId, rule: { mac: 'fa:16:3e:00:00:01' }, free: FREE_KEEP_TAGS };
        const slice = portKind.slice(p);
        t.deepEqual(slice.vfs, [nic.secId]);
        const names = new Set(nic.components.map((c) => `vf ${nic.secId}/${c.name}`));
        t.true(slice.components.length > 0);
        for (const c of slice.components) t.true(names.has(c), `${c} is in the layout`);
        t.true(
          slice.components.some((c) => c.endsWith(`/${nic.components.find((s) => s.type === 'classifier_mac')?.name}`)),
          'the classifier holds the entry',
        );
        const hints = portKind.draw(p);
        t.deepEqual(
          hints.map((h) => h.dir),
          ['tx', 'rx'],
        );
        for (const h of hints) {
          const spec = nic.components.find((c) => c.name === h.component);
          t.truthy(spec, h.component);
          t.true((h.dir === 'rx' ? spec?.rx : spec?.tx)?.includes(h.port), `${h.component} ${h.dir} ${h.port}`);
          t.true(slice.components.includes(`${h.process}/${h.component}`), 'drawn inside its slice');
        }
      }
    }
  });
}

/** What a kind must be, beyond its type: named, reading only protocol key kinds, every part given. */
function shapeProblems<F, K, I, D, O, S>(kind: Kind<F, K, I, D, O, S>): string[] {
  const out: string[] = [];
  if (!kind.name) out.push('no name');
  if (kind.keyKinds.length === 0) out.push('no key kinds');
  for (const k of kind.keyKinds) if (!KEY_KINDS.includes(k)) out.push(`unknown key kind ${k}`);
  for (const part of ['intents', 'sameIntent', 'describe', 'slice', 'plan', 'draw'] as const)
    if (typeof kind[part] !== 'function') out.push(`${part} is not a function`);
  return out;
}

test('both kinds satisfy the shape, under their own names and key kinds', (t) => {
  t.deepEqual(shapeProblems(portKind), []);
  t.deepEqual(shapeProblems(tapKind), []);
  t.not(portKind.name, tapKind.name);
  t.deepEqual(
    portKind.keyKinds.filter((k) => tapKind.keyKinds.includes(k)),
    [],
    'no key kind is read by two kinds',
  );
});
