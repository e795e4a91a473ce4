/**
 * What the server computes for the page, without a browser: the spp_vf
 * drawings (from the observed vf status, sized so that no text leaves its
 * box and no boxes overlap), the ports list rows and the cluster view.
 */
import test from 'ava';
import type { ControllerView, NicView, PortView, ViewFrame } from '../src/agent/view';
import { keys } from '../src/protocol/keys';
import { clusterView } from '../src/viz/cluster';
import { labelRect, layoutGraph } from '../src/viz/graph-layout';
import { hostPage } from '../src/viz/host-page';
import { agentMachineGraphs } from '../src/viz/machine-graph';
import { portRows } from '../src/viz/port-rows';
import { CHAR_W, LINE_H, type VfDrawing } from '../src/viz/vf-drawing';
import { buildFrames, FRAME_HOST, MAPPINGS_4X4, macOf, plugSteps, portIdOf } from './helpers/frames';
import { nicTags, portTags } from './helpers/tags';

let frames: ViewFrame[] = [];
test.before(async () => {
  // vhost 0 flat, vhost 5 with VLAN 105, vhost 6 with a MAC that does not parse
  frames = await buildFrames([...plugSteps(1, 0), ...plugSteps(6, 5), ...plugSteps(7, 6, 'fa:16:3e:zz:00:07')], MAPPINGS_4X4);
});
const last = (): ControllerView => frames[frames.length - 1]!.view;
const node = (d: VfDrawing, id: string) => d.nodes.find((n) => n.id === id)!;
const texts = (d: VfDrawing, id: string): string[] => node(d, id).lines.map((l) => l.text);

test('one drawing per spp_vf; boxes never overlap and every line fits its box', (t) => {
  const page = hostPage(last());
  t.is(page.drawings.length, 4);
  for (const d of page.drawings) {
    t.is(d.nodes.length, 3 + 5 * 4, `spp_vf ${d.secId}: NIC, classifier, merger and 5 per vhost`);
    for (const [i, a] of d.nodes.entries()) {
      t.true(a.x >= 0 && a.y >= 0 && a.x + a.w <= d.width && a.y + a.h <= d.height, `${a.id} inside the drawing`);
      for (const l of a.lines) t.true(l.text.length * CHAR_W <= a.w - 12, `${a.id}: "${l.text}" fits`);
      t.true(a.lines.length * LINE_H <= a.h - 8, `${a.id}: its lines fit`);
      for (const b of d.nodes.slice(i + 1)) {
        t.false(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h, `${a.id} and ${b.id} overlap`);
      }
    }
  }
});

test('entries and tag operations are drawn from the observed vf status, vhosts by their port', (t) => {
  const page = hostPage(last());
  const [vf1, vf2] = page.drawings;
  t.deepEqual(texts(vf1!, 'ring:0').slice(1), [`mac ${macOf(1).toUpperCase()}`]);
  t.deepEqual(texts(vf2!, 'ring:10').slice(1), [`vlan 105/${macOf(6).toUpperCase()}`, 'tx vlan del']);
  t.deepEqual(texts(vf2!, 'forward_5_rx').slice(1), ['rx vlan add 105']);
  t.is(node(vf1!, 'vhost:0').phase, 'up');
  t.is(node(vf1!, 'vhost:0').portId, portIdOf(1));
  t.is(node(vf2!, 'vhost:6').phase, 'failed');
  t.deepEqual(texts(vf2!, 'ring:12').slice(1), ['no classifier entry']);
  t.is(node(vf1!, 'vhost:1').phase, 'free');
  t.false(
    page.drawings.some((d) => d.nodes.some((n) => n.differs)),
    'all agree',
  );
});

test('where observed and desired differ, the drawing says so: a changed entry, a stale one, a vf not read', (t) => {
  const view = last();
  const ring0 = 'ring:0';
  const drift = (n: NicView): NicView =>
    n.secId !== 1 || !n.status
      ? n
      : {
          ...n,
          status: {
            ...n.status,
            classifier_table: [
              ...n.status.classifier_table.map((e) => (e.port === ring0 ? { ...e, value: 'FA:16:3E:99:99:99' } : e)),
              { type: 'mac', value: 'FA:16:3E:55:55:55', port: 'ring:2' },
            ],
          },
        };
  const ports = view.ports.map(
    (p): PortView => (p.portId === portIdOf(1) && p.observed ? { ...p, observed: { ...p.observed, rule: { mac: 'fa:16:3e:99:99:99' } } } : p),
  );
  const page = hostPage({ ...view, nics: view.nics.map(drift).map((n) => (n.secId === 4 ? { ...n, status: undefined } : n)) as NicView[], ports });
  const vf1 = page.drawings[0]!;
  t.true(node(vf1, ring0).differs);
  t.deepEqual(texts(vf1, ring0).slice(1), ['mac FA:16:3E:99:99:99', `desired: mac ${macOf(1)}`]);
  // an entry on the ring of vhost 1, which no port plugs
  t.true(node(vf1, 'ring:2').differs);
  t.deepEqual(texts(vf1, 'ring:2').slice(-1), ['desired: none']);
  const vf4 = page.drawings[3]!;
  t.true(node(vf4, 'classifier').differs);
  t.deepEqual(texts(vf4, 'classifier').slice(-1), ['status not read yet']);
  t.regex(
    page.rows.find((r) => r.portId === portIdOf(1))!.whyNotUp.join('\n'),
    /observed classifier rule is mac fa:16:3e:99:99:99, desired mac fa:16:3e:00:01:07/,
  );
});

test('the ports list: failed first, then not converged; words, ages and the path come from the server', (t) => {
  const view = last();
  const place = { vhostId: 8, secId: 3, vhostKey: keys.vhost(FRAME_HOST, 'phys3', 8) };
  const waiting: PortView = {
    portId: 'ffff0000-0000-4000-8000-000000000000',
    state: 'waitingForNic',
    tags: portTags('waitingForNic'),
    intent: { kind: 'plug', place, rule: { mac: 'fa:16:3e:00:00:08' } },
    revision: 9,
    history: [
      { at: 1000, revision: 9, what: 'desired', state: 'evaluating', tags: portTags('evaluating') },
      { at: 1500, revision: 9, what: 'wait', state: 'waitingForNic', tags: portTags('waitingForNic') },
      { at: 1700, revision: 9, what: 'nic state', state: 'waitingForNic', tags: portTags('waitingForNic') },
    ],
  };
  const nics = view.nics.map((n) => (n.secId === 3 ? { ...n, state: 'building', tags: nicTags('building'), lastError: 'spp_vf 3 not connected' } : n));
  const rows = portRows({ ...view, nics, ports: [...view.ports, waiting] }, {}, 4000);
  t.deepEqual(
    rows.map((r) => r.phase),
    ['failed', 'plugging', 'up', 'up'],
  );
  const w = rows[1]!;
  t.is(w.portId, waiting.portId);
  t.is(w.intentText, 'plug vhost 8 on spp_vf 3: mac fa:16:3e:00:00:08');
  t.is(w.ageMs, 3000, 'trying since the plug was asked (evaluating, then waiting: one effort)');
  t.deepEqual(w.path, ['evaluating', 'waitingForNic']);
  t.deepEqual(
    w.timeline.map((s) => s.sinceMs),
    [undefined, 500, 200],
  );
  t.deepEqual(w.whyNotUp, ['waiting for spp_vf 3: NIC building (spp_vf 3 not connected)']);
  t.regex(rows[0]!.whyNotUp[0]!, /^the request cannot be done: .*mac_address/);
  t.deepEqual(rows[2]!.whyNotUp, [], 'nothing to explain for a port that is up');
});

test('a port retrying on errors: its own phase (not plugging), its age from the first attempt, its attempts and last error; an invalid request is not called flat', (t) => {
  const view = last();
  const place = { vhostId: 8, secId: 3, vhostKey: keys.vhost(FRAME_HOST, 'phys3', 8) };
  const error = 'spp-ctl PUT /v1/vfs/3/classifier_table answered 500: Internal Server Error';
  const retrying: PortView = {
    portId: 'eeee0000-0000-4000-8000-000000000000',
    state: 'backoff',
    tags: portTags('backoff'),
    intent: { kind: 'plug', place, rule: { mac: 'fa:16:3e:00:00:08', vlan: 100 } },
    lastError: error,
    attempts: 3,
    revision: 9,
    history: [
      { at: 1000, revision: 9, what: 'desired', state: 'plugging', tags: portTags('plugging') },
      { at: 1100, revision: 9, what: 'failed', state: 'backoff', tags: portTags('backoff'), error },
      { at: 1700, revision: 9, what: 'retry', state: 'plugging', tags: portTags('plugging') },
      { at: 1800, revision: 9, what: 'failed', state: 'backoff', tags: portTags('backoff'), error },
      { at: 2900, revision: 9, what: 'retry', state: 'plugging', tags: portTags('plugging') },
      { at: 3000, revision: 9, what: 'failed', state: 'backoff', tags: portTags('backoff'), error },
    ],
  };
  // the next try after a backoff is still a retry: the machine counts the failures until one succeeds
  const inFlight: PortView = { ...retrying, portId: 'eeee0000-0000-4000-8000-000000000001', state: 'plugging', tags: portTags('plugging') };
  const invalid: PortView = {
    portId: 'eeee0000-0000-4000-8000-000000000002',
    state: 'failed.reported',
    tags: portTags('failed.reported'),
    intent: { kind: 'invalid', reason: 'bind_port: vlan_id 5000 is out of range 1-4094', cause: 'input' },
    revision: 9,
    history: [{ at: 1000, revision: 9, what: 'desired', state: 'failed.reported', tags: portTags('failed.reported') }],
  };
  const rows = portRows({ ...view, ports: [retrying, inFlight, invalid] }, {}, 4000);
  const r = rows.find((x) => x.portId === retrying.portId)!;
  t.is(r.phase, 'retrying');
  t.is(rows.find((x) => x.portId === inFlight.portId)!.phase, 'retrying');
  t.true(r.attention);
  t.is(r.ageMs, 3000, 'from the first attempt at 1000, not from the last retry');
  t.is(r.attempts, 3);
  t.is(r.lastError, error);
  t.is(r.binding, 'vlan 100');
  t.deepEqual(r.whyNotUp, [`retrying after 3 failed attempts; last error: ${error}`]);
  const bad = rows.find((x) => x.portId === invalid.portId)!;
  t.is(bad.phase, 'failed');
  t.is(bad.binding, 'invalid request');
  t.is(bad.vlan, undefined);
  t.deepEqual(
    rows.map((x) => x.phase),
    ['failed', 'retrying', 'retrying'],
    'failed first, then retrying',
  );
});

test('the cluster view groups the keys by host: agent alive or not, NICs, ports by state', (t) => {
  const cfg = '[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0xfe"}]';
  const values: Record<string, string> = {
    [keys.configuration('a')]: cfg,
    [keys.agent('a')]: '{"version": "0.1.0", "started_at": "2026-12-01T09:00:00Z", "pid": 7}',
    [keys.vhost('a', 'phys1', 0)]: 'p1',
    [keys.bindPort('a', 'p1')]: '{"vhost_id": 0, "mac_address": "fa:16:3e:00:00:01", "vlan_id": 10}',
    [keys.action('a', 'p1')]: 'plug',
    [keys.portStatus('a', 'p1')]: 'up',
    [keys.vhost('a', 'phys1', 1)]: 'p2',
    [keys.bindPort('a', 'p2')]: '{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:02"}',
    [keys.action('a', 'p2')]: 'plug',
    [keys.configuration('b')]: cfg,
    [keys.bindPort('b', 'p3')]: '{"vhost_id": 0, "mac_address": "fa:16:3e:00:00:03"}',
    [keys.action('b', 'p3')]: 'plug',
    [keys.portStatus('b', 'p3')]: 'error: no such vhost',
    [keys.bindPort('b', 'p4')]: '{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:04"}',
    [keys.action('b', 'p4')]: 'unplug',
  };
  const view = clusterView(values, new Map([['a', 'http://127.0.0.1:7780/']]), { revision: 5, connected: true, reason: 'watching' });
  t.deepEqual(
    view.hosts.map((h) => [h.host, h.agentAlive, h.configuration, h.nics.length, h.agentUi]),
    [
      ['a', true, 'valid', 1, 'http://127.0.0.1:7780/'],
      ['b', false, 'valid', 1, undefined],
    ],
  );
  t.deepEqual(view.hosts[0]!.counts, { failed: 0, retrying: 0, plugging: 1, unplugging: 0, up: 1, free: 0 });
  t.deepEqual(view.hosts[1]!.counts, { failed: 1, retrying: 0, plugging: 0, unplugging: 1, up: 0, free: 0 });
  t.like(view.hosts[0]!.ports[0], { portId: 'p1', phase: 'up', vhostId: 0, vlan: 10, mac: 'fa:16:3e:00:00:01' });
  t.regex(view.hosts[0]!.agent ?? '', /pid 7/);
});

test('machine diagrams: no edge label covers a state box or another label', (t) => {
  const hit = (a: { x: number; y: number; w: number; h: number }, b: typeof a): boolean =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  for (const [name, graph] of Object.entries(agentMachineGraphs())) {
    const layout = layoutGraph(graph);
    const rects = [
      ...layout.boxes.map((b) => ({ x: b.x, y: b.y, w: b.w, h: b.h, id: `state ${b.id}` })),
      ...layout.edges.map((e) => ({ id: `label ${e.from}->${e.to}`, ...labelRect(e) })),
    ];
    const clashes = rects.flatMap((a, i) =>
      rects
        .slice(i + 1)
        .filter((b) => hit(a, b))
        .map((b) => `${a.id} / ${b.id}`),
    );
    t.deepEqual(clashes, [], `${name} machine`);
    t.true(layout.edges.length > 1, `${name} has edges to check`);
  }
});
