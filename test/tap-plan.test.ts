import test from 'ava';
import type { TapFlow } from '../src/plan/tap-desired';
import { tapKind } from '../src/plan/tap-kind';
import { designTap, planTap, scheduleTicks, serialTicks } from '../src/plan/tap-plan';

const end = (v: number, secId: number) => ({
  portId: `p${v}`,
  vhostId: v,
  secId,
  feeder: `forward_${v}_tx`,
  toVm: `ring:${2 * v}`,
  drain: `forward_${v}_rx`,
  fromVm: `ring:${2 * v + 1}`,
});
const leg = (dir: 'IN' | 'OUT', k: number) => ({
  dir,
  mirrorId: k,
  component: `mirror_${k}`,
  core: 16 + k,
  serviceRing: `ring:${8 + 2 * k}`,
  sourceRing: `ring:${9 + 2 * k}`,
});
const flow = (dirs: ReadonlyArray<'IN' | 'OUT'>, sameVf = false): TapFlow => ({
  flowId: 'f',
  source: end(2, 2),
  service: sameVf ? end(3, 2) : end(1, 1),
  mirrorSecId: 3,
  legs: dirs.map((d, i) => leg(d, i)),
});

// figures for docs/taas.md: ticks (one answer per process per tick) and ticks the source's path is broken
test('ticks of each plan beside the serial upstream order; the source is broken for one tick in every case', (t) => {
  const rows: string[] = [];
  for (const [name, dirs] of [
    ['IN', ['IN']],
    ['OUT', ['OUT']],
    ['BOTH', ['IN', 'OUT']],
  ] as const) {
    for (const want of ['present', 'absent'] as const) {
      const steps = designTap(flow(dirs), want);
      const ours = scheduleTicks(steps);
      const theirs = serialTicks(steps);
      for (const broken of ours.broken.values()) t.is(broken, 1, `${name} ${want}`);
      t.true(ours.ticks < theirs.ticks);
      rows.push(
        `${name} ${want === 'present' ? 'plug' : 'unplug'}: ${ours.ticks} ticks (upstream ${theirs.ticks}), broken ${[...ours.broken.values()].join('+')} (upstream ${[...theirs.broken.values()].join('+')})`,
      );
    }
  }
  t.log(rows.join('\n'));
  t.deepEqual([...serialTicks(designTap(flow(['OUT']), 'present')).broken.values()], [3], 'upstream breaks OUT for three ticks');
});

test('a plan leaves out what holds: a flow in place plans nothing, a crash after the breaking step plans only the mend', (t) => {
  const f = flow(['IN']);
  const none = { vf: () => undefined, mirror: undefined };
  t.is(planTap(f, 'present', none).length, 5, 'the detach of a port on no known component holds already');
  const status = (secId: number, comps: Array<[string, string[], string[]]>) => ({
    'client-id': secId,
    ports: [],
    classifier_table: [],
    components: comps.map(([name, rx, tx], i) => ({
      core: i + 2,
      name,
      type: 'merge' as const,
      rx_port: rx.map((port) => ({ port, vlan: { operation: 'none' as const, id: 0, pcp: 0 } })),
      tx_port: tx.map((port) => ({ port, vlan: { operation: 'none' as const, id: 0, pcp: 0 } })),
    })),
  });
  const mirror = (rx: string[], tx: string[]) => ({
    'client-id': 3,
    ports: [],
    components: [
      {
        core: 16,
        name: 'mirror_0',
        type: 'mirror' as const,
        rx_port: rx.map((port) => ({ port, vlan: { operation: 'none' as const, id: 0, pcp: 0 } })),
        tx_port: tx.map((port) => ({ port, vlan: { operation: 'none' as const, id: 0, pcp: 0 } })),
      },
    ],
  });
  const vfs = new Map([
    [1, status(1, [['forward_1_tx', ['ring:2', 'ring:8'], ['vhost:1']]])],
    [2, status(2, [['forward_2_tx', ['ring:9'], ['vhost:2']]])],
  ]);
  const crashed = planTap(f, 'present', { vf: (id) => vfs.get(id), mirror: mirror([], ['ring:8', 'ring:9']) });
  t.deepEqual(
    crashed.map((s) => s.id),
    ['plug.in.6'],
  );
  t.deepEqual(crashed[0]!.after, [], 'its dependency holds');
  t.deepEqual(planTap(f, 'present', { vf: (id) => vfs.get(id), mirror: mirror(['ring:4'], ['ring:8', 'ring:9']) }), []);
});

test("the tap kind: its drawing is the plug plan's net effect, its slice names the components the plan touches", (t) => {
  for (const dirs of [['IN'], ['OUT'], ['IN', 'OUT']] as const) {
    const f = flow(dirs);
    const steps = designTap(f, 'present');
    const fromSteps = steps
      .map((s) => {
        const c = s.cmd as { op: string; secId: number; component: string; port: string; dir: string };
        const proc = c.op.startsWith('mirror') ? `mirror ${c.secId}` : `vf ${c.secId}`;
        return `${proc}/${c.component}/${c.port}/${c.dir}/${c.op.endsWith('attach') ? 'adds' : 'takes'}`;
      })
      .sort();
    const drawn = tapKind
      .draw(f)
      .map((h) => `${h.process}/${h.component}/${h.port}/${h.dir}/${h.change}`)
      .sort();
    t.deepEqual(drawn, fromSteps, dirs.join('+'));
    const touched = new Set(
      steps.map((s) => `${s.cmd.op.startsWith('mirror') ? 'mirror' : 'vf'} ${s.cmd.secId}/${(s.cmd as { component: string }).component}`),
    );
    t.deepEqual([...tapKind.slice(f).components].sort(), [...touched].sort());
  }
});
