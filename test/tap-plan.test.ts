import test from 'ava';
import type { TapFlow } from '../src/plan/tap-desired';
import { tapKind } from '../src/plan/tap-kind';
import { designTap, planTap, processOf, readySteps, scheduleTicks, serialTicks } from '../src/plan/tap-plan';

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
  // the figures docs/taas.md ("Timing") and docs/performance.md give; BOTH plug pays a tick for the mirror kept free during IN's break
  t.deepEqual(rows, [
    'IN plug: 4 ticks (upstream 6), broken 1 (upstream 1)',
    'IN unplug: 3 ticks (upstream 6), broken 1 (upstream 1)',
    'OUT plug: 5 ticks (upstream 6), broken 1 (upstream 3)',
    'OUT unplug: 3 ticks (upstream 6), broken 1 (upstream 3)',
    'BOTH plug: 9 ticks (upstream 12), broken 1+1 (upstream 1+3)',
    'BOTH unplug: 6 ticks (upstream 12), broken 1+1 (upstream 1+3)',
  ]);
  t.deepEqual([...serialTicks(designTap(flow(['OUT']), 'present')).broken.values()], [3], 'upstream breaks OUT for three ticks');
});

// the executor handles answers one at a time, in any order within a tick: these are the states the tick model never
// shows (it answers a tick's steps all at once), where starting the wrong step makes a break last a tick more
test("a break starts only where its mend can follow at once, and while it is in flight the mend's process takes nothing else", (t) => {
  const ids = (xs: readonly { id: string }[]): string[] => xs.map((x) => x.id).sort();
  // BOTH unplug: IN mended (unplug.in.2) and vf 1 done, the mirror busy with IN's unplug.in.5. OUT's breaks are on
  // vf 2 and the mirror: vf 2's alone would break the path while the mirror's waits behind unplug.in.5.
  const del = designTap(flow(['IN', 'OUT']), 'absent');
  const delDone = new Set(['unplug.in.1', 'unplug.in.2', 'unplug.in.3', 'unplug.in.6']);
  const delReady = readySteps(del, delDone, new Set([...delDone, 'unplug.in.5']));
  t.false(
    delReady.some((s) => s.role === 'breaks'),
    ids(delReady).join(),
  );
  // with the mirror free, both OUT breaks start together (and vf 2, where the mend goes, takes nothing else)
  const delDone2 = new Set([...delDone, 'unplug.in.5']);
  t.deepEqual(ids(readySteps(del, delDone2, delDone2)), ['unplug.out.1', 'unplug.out.2']);

  // BOTH plug: IN's break (plug.in.5 on vf 2) in flight; its mend goes to the mirror, which must stay free even
  // though plug.out.2 could start there (an answer handled before the break's would take the tick from the mend)
  const plug = designTap(flow(['IN', 'OUT']), 'present');
  const plugDone = new Set(['plug.in.1', 'plug.in.2', 'plug.in.3', 'plug.in.4', 'plug.out.1']);
  const plugReady = readySteps(plug, plugDone, new Set([...plugDone, 'plug.in.5']));
  t.false(
    plugReady.some((s) => processOf(s.cmd) === 'mirror:3'),
    ids(plugReady).join(),
  );
  // once the break is answered the mend goes first
  const plugDone2 = new Set([...plugDone, 'plug.in.5']);
  t.deepEqual(ids(readySteps(plug, plugDone2, plugDone2)), ['plug.in.6']);
  // and no break starts while the process of its mend is busy with another step
  const out = designTap(flow(['OUT']), 'present');
  const outDone = new Set(['plug.out.1', 'plug.out.2', 'plug.out.4', 'plug.out.5']);
  t.deepEqual(ids(readySteps(out, outDone, outDone)), ['plug.out.3']);
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
