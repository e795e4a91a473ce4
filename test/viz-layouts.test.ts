/**
 * The page's spp_vf drawing for each layout: only the components the layout
 * has (no forwarders drawn where there are none), their types and shared
 * cores, the entry and the tags where the layout puts them, and a vf built
 * from another layout said in words.
 */
import test from 'ava';
import type { NicView } from '../src/agent/view';
import { applyCommand, emptyStatus } from '../src/plan/observed';
import { planLayout, planVhost } from '../src/plan/planner';
import type { ComponentDecl } from '../src/protocol/configuration';
import { hostLayout, type NicLayout, withDefaultComponents } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { readComponentFile } from '../src/setup/component-file';
import type { VfStatus } from '../src/sppctl/wire';
import { CHAR_W, drawVf, type VfDrawing } from '../src/viz/vf-drawing';
import { nicTags } from './helpers/tags';
import { EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML, EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML } from './helpers/upstream-layouts';

const declaredNics = (mappings: string, yaml: string) => {
  const d = readComponentFile('f.yaml', yaml);
  if (!d.ok) throw new Error(d.error);
  return parseMappings(mappings, { declaredLayouts: true }).configuration!.map((n, i) => ({ ...n, components: [...d.value.vf[i]!] as ComponentDecl[] }));
};

/** NIC 0 built, vhost 0 flat and vhost 1 on VLAN 101. */
function drawn(nic: NicLayout, mutate: (s: VfStatus) => VfStatus = (s) => s): VfDrawing {
  const run = (s: VfStatus, cmds: ReturnType<typeof planLayout>) => cmds.reduce(applyCommand, s);
  let status = run(emptyStatus(nic.secId, [...new Set(nic.components.map((c) => c.core))], ['phy:0']), planLayout(nic, emptyStatus(1, [])));
  status = run(status, planVhost(nic, 0, { mac: 'fa:16:3e:00:00:01' }, status));
  status = run(status, planVhost(nic, 1, { mac: 'fa:16:3e:00:00:02', vlan: 101 }, status));
  const view: NicView = { secId: nic.secId, layout: nic, state: 'ready', tags: nicTags('ready'), status: mutate(status) };
  return drawVf(view, [], {}, []);
}
const texts = (d: VfDrawing, id: string): string[] => d.nodes.find((n) => n.id === id)?.lines.map((l) => l.text) ?? [`(no node ${id})`];

function noOverlap(t: import('ava').ExecutionContext, d: VfDrawing): void {
  for (const [i, a] of d.nodes.entries()) {
    t.true(a.x >= 0 && a.y >= 0 && a.x + a.w <= d.width && a.y + a.h <= d.height, `${a.id} inside`);
    for (const l of a.lines) t.true(l.text.length * CHAR_W <= a.w - 12, `${a.id}: "${l.text}" fits`);
    for (const b of d.nodes.slice(i + 1)) t.false(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h, `${a.id} and ${b.id} overlap`);
  }
}

test('no forwarders: no forwarder boxes; the entry on classifier>vhost:v, the tag on vhost:v at the merger', (t) => {
  const [nic] = hostLayout(declaredNics(EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML), 'final');
  const d = drawn(nic!);
  t.is(d.nodes.length, 3 + 3 * 2, 'NIC, classifier, merger and 3 per vhost');
  t.false(d.nodes.some((n) => n.kind === 'forward'));
  // (no port rows are given, so the entry is also marked as wanted by nobody)
  t.deepEqual(texts(d, 'classifier>vhost:1').slice(0, 3), ['classifier → vhost:1', 'vlan 101/FA:16:3E:00:00:02', 'tx vlan del']);
  t.deepEqual(texts(d, 'vhost:1>merger'), ['vhost:1 → merger', 'rx vlan add 101']);
  t.deepEqual(texts(d, 'classifier'), ['classifier · classifier_mac · core 6']);
  t.is(d.edges.filter((e) => e.from === 'classifier>vhost:1' && e.to === 'vhost:1').length, 1, 'the classifier feeds the vhost directly');
  noOverlap(t, d);
});

test('shared cores and merge-type forwarders are drawn as the layout has them; the final tag sits on the merger ring', (t) => {
  const [nic] = hostLayout(declaredNics(EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML), 'final');
  const d = drawn(nic!);
  t.is(d.nodes.length, 3 + 5 * 2);
  t.deepEqual(texts(d, 'forward_0_tx'), ['forward_0_tx · merge · core 2 shared']);
  t.deepEqual(texts(d, 'forward_0_rx'), ['forward_0_rx · forward · core 2 shared']);
  t.deepEqual(texts(d, 'merger')[0], 'merger · merge · core 5');
  t.deepEqual(texts(d, 'ring:3'), ['ring:3 → merger', 'rx vlan add 101']);
  t.deepEqual(texts(d, 'forward_1_rx'), ['forward_1_rx · forward · core 3 shared'], 'no tag at the forwarder in the final layout');
  t.is(d.warnings, undefined);
  noOverlap(t, d);
});

test('the c33920f layout keeps its tag at forward_<v>_rx; a vf built from another layout is said with the remedy', (t) => {
  const seed = parseMappings('00:04.0#phys1#2#0xfe').configuration!;
  const [legacy] = hostLayout(seed, 'legacy');
  t.deepEqual(texts(drawn(legacy!), 'forward_1_rx'), ['forward_1_rx · forward · core 5', 'rx vlan add 101']);
  const [final] = hostLayout(withDefaultComponents(seed), 'final');
  // a vf that runs forward_0_tx as forward (built by the c33920f agent)
  const d = drawVf(
    {
      secId: 1,
      layout: final!,
      state: 'ready',
      tags: nicTags('ready'),
      status: { ...emptyStatus(1, [2]), components: [{ core: 2, name: 'forward_0_tx', type: 'forward', rx_port: [], tx_port: [] }] },
      drift: ['forward_0_tx runs as forward; the configured layout starts it as merge'],
    },
    [],
    {},
    [],
  );
  t.true(texts(d, 'forward_0_tx').includes('runs as forward'));
  t.regex(d.warnings?.join(' ') ?? '', /forward_0_tx runs as forward; .* restart spp_vf 1/);
});
