/**
 * Issue 19: a free vhost keeps its VLAN tags until a plug needs others. The
 * exact spp-ctl requests (the emulator's request log) of every case, in the
 * default mode and with --unplug-resets-vlan (the original agent's reset).
 */
import test, { type ExecutionContext } from 'ava';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, requests, type System, startSystem } from './helpers/system';

type Req = { method: string; path: string; body?: unknown };

const C = '/v1/vfs/2/components';
const T = '/v1/vfs/2/classifier_table';
const port = (n: number, vlan?: number): PyPort => ({
  portId: `a0000000-0000-0000-0000-00000000000${n}`,
  vhostId: 3,
  phys: 'phys2',
  mac: `fa:16:3e:00:00:0${n}`,
  ...(vlan !== undefined ? { vlan } : {}),
});

// vhost 3 is on vf 2: forward_3_rx takes vhost:3 as rx, the classifier ring:6 as tx
const rxDetach: Req = { method: 'PUT', path: `${C}/forward_3_rx/ports`, body: { action: 'detach', port: 'vhost:3', dir: 'rx' } };
const rxAttach = (vlan?: number): Req => ({
  method: 'PUT',
  path: `${C}/forward_3_rx/ports`,
  body: { action: 'attach', port: 'vhost:3', dir: 'rx', ...(vlan !== undefined ? { vlan: { operation: 'add', id: vlan, pcp: 0 } } : {}) },
});
const txDetach: Req = { method: 'PUT', path: `${C}/classifier/ports`, body: { action: 'detach', port: 'ring:6', dir: 'tx' } };
const txAttach = (del: boolean): Req => ({
  method: 'PUT',
  path: `${C}/classifier/ports`,
  body: { action: 'attach', port: 'ring:6', dir: 'tx', ...(del ? { vlan: { operation: 'del' } } : {}) },
});
const entry = (action: 'add' | 'del', p: PyPort): Req => ({
  method: 'PUT',
  path: T,
  body:
    p.vlan !== undefined
      ? { action, type: 'vlan', mac_address: p.mac, port: 'ring:6', vlan: p.vlan }
      : { action, type: 'mac', mac_address: p.mac, port: 'ring:6' },
});
const firstVlanPlug = (p: PyPort): Req[] => [rxDetach, rxAttach(p.vlan), txDetach, txAttach(true), entry('add', p)];
const resetUnplug = (p: PyPort): Req[] => [rxDetach, rxAttach(), txDetach, txAttach(false), entry('del', p)];

async function step(t: ExecutionContext, s: System, what: string, action: () => Promise<unknown>, expected: Req[]): Promise<void> {
  s.sim.emulator.clearLog();
  await action();
  await s.agent!.controller.idle();
  t.deepEqual(requests(s), expected, what);
}

const plug = (s: System, p: PyPort) => async (): Promise<void> => {
  await pyBind(s.client, s.host, p);
  await waitUp(s.client, s.host, p.portId);
};
const unplug = (s: System, p: PyPort) => async (): Promise<void> => {
  await pyUnbind(s.client, s.host, p.portId);
  await waitGone(s.client, s.host, p.portId);
};

test('default: VLAN unplug 1 request, same-VLAN re-plug 1, another VLAN 3, a flat plug removes the tags first', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  const [a, b, c, d] = [port(1, 100), port(2, 100), port(3, 200), port(4)];
  await step(t, s, 'first VLAN plug', plug(s, a), firstVlanPlug(a));
  await step(t, s, 'VLAN unplug', unplug(s, a), [entry('del', a)]);
  await step(t, s, 're-plug with the same VLAN', plug(s, b), [entry('add', b)]);
  await step(t, s, 'VLAN unplug', unplug(s, b), [entry('del', b)]);
  await step(t, s, 're-plug with another VLAN', plug(s, c), [rxDetach, rxAttach(200), entry('add', c)]);
  await step(t, s, 'VLAN unplug', unplug(s, c), [entry('del', c)]);
  await step(t, s, 'flat plug after a VLAN unplug', plug(s, d), [rxDetach, rxAttach(), txDetach, txAttach(false), entry('add', d)]);
  await step(t, s, 'flat unplug', unplug(s, d), [entry('del', d)]);
  const status = await s.vfStatus(2);
  const rx = status.components.find((x) => 'name' in x && x.name === 'forward_3_rx');
  t.deepEqual(rx && 'rx_port' in rx ? rx.rx_port : undefined, [{ port: 'vhost:3', vlan: { operation: 'none', id: 0, pcp: 0 } }], 'the flat plug left no tag');
});

test('--unplug-resets-vlan: every unplug resets the tags as the original agent does, every VLAN plug sets them again', async (t) => {
  const s = await startSystem(t, { settings: { unplugResetsVlan: 'true' } });
  await nicsReady(s);
  const [a, b, c, d] = [port(1, 100), port(2, 100), port(3, 200), port(4)];
  await step(t, s, 'first VLAN plug', plug(s, a), firstVlanPlug(a));
  await step(t, s, 'VLAN unplug', unplug(s, a), resetUnplug(a));
  await step(t, s, 're-plug with the same VLAN', plug(s, b), firstVlanPlug(b));
  await step(t, s, 'VLAN unplug', unplug(s, b), resetUnplug(b));
  await step(t, s, 're-plug with another VLAN', plug(s, c), firstVlanPlug(c));
  await step(t, s, 'VLAN unplug', unplug(s, c), resetUnplug(c));
  await step(t, s, 'flat plug after a VLAN unplug', plug(s, d), [entry('add', d)]);
  await step(t, s, 'flat unplug', unplug(s, d), [entry('del', d)]);
});

/** A burst of VLAN binds on one NIC of 4 vhosts: fresh, unplugged, then warm (the same VLANs on the same vhosts). */
async function burst(t: ExecutionContext, resetVlan: boolean): Promise<void> {
  const s = await startSystem(t, { mappings: '00:04.0#phys1#4#0xffe', ...(resetVlan ? { settings: { unplugResetsVlan: 'true' } } : {}) });
  await nicsReady(s);
  const ports = (round: number): PyPort[] =>
    [0, 1, 2, 3].map((v) => ({
      portId: `b000000${round}-0000-0000-0000-00000000000${v}`,
      vhostId: v,
      phys: 'phys1',
      mac: `fa:16:3e:00:0${round}:0${v}`,
      vlan: 300 + v,
    }));
  const plugAll = async (ps: PyPort[]): Promise<void> => {
    await Promise.all(ps.map((p) => pyBind(s.client, s.host, p)));
    await Promise.all(ps.map((p) => waitUp(s.client, s.host, p.portId)));
    await s.agent!.controller.idle();
  };
  const vhostPlan = (p: PyPort, first: boolean): Req[] => {
    const fwd = `/v1/vfs/1/components/forward_${p.vhostId}_rx/ports`;
    const ring = `ring:${2 * p.vhostId}`;
    const add: Req = { method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'vlan', mac_address: p.mac, port: ring, vlan: p.vlan } };
    if (!first) return [add];
    return [
      { method: 'PUT', path: fwd, body: { action: 'detach', port: `vhost:${p.vhostId}`, dir: 'rx' } },
      { method: 'PUT', path: fwd, body: { action: 'attach', port: `vhost:${p.vhostId}`, dir: 'rx', vlan: { operation: 'add', id: p.vlan, pcp: 0 } } },
      { method: 'PUT', path: '/v1/vfs/1/components/classifier/ports', body: { action: 'detach', port: ring, dir: 'tx' } },
      { method: 'PUT', path: '/v1/vfs/1/components/classifier/ports', body: { action: 'attach', port: ring, dir: 'tx', vlan: { operation: 'del' } } },
      add,
    ];
  };
  /** The log cut into whole plans: every plan's commands are contiguous, in the order the plans ran. */
  const asPlans = (log: Req[], ps: PyPort[], first: boolean): Req[][] => {
    const plans: Req[][] = [];
    let rest = log;
    while (rest.length > 0) {
      const next = ps.map((p) => vhostPlan(p, first)).find((plan) => JSON.stringify(rest.slice(0, plan.length)) === JSON.stringify(plan));
      if (!next) return [...plans, rest];
      plans.push(next);
      rest = rest.slice(next.length);
    }
    return plans;
  };
  const fresh = ports(1);
  s.sim.emulator.clearLog();
  await plugAll(fresh);
  const freshPlans = asPlans(requests(s), fresh, true);
  t.is(freshPlans.length, 4, 'four whole plans, none interleaved with another');
  t.deepEqual(freshPlans.map((p) => JSON.stringify(p)).sort(), fresh.map((p) => JSON.stringify(vhostPlan(p, true))).sort());

  await Promise.all(fresh.map((p) => unplug(s, p)()));
  await s.agent!.controller.idle();
  const warm = ports(2);
  s.sim.emulator.clearLog();
  await plugAll(warm);
  const warmPlans = asPlans(requests(s), warm, resetVlan);
  const want = warm.map((p) => JSON.stringify(vhostPlan(p, resetVlan)));
  t.is(warmPlans.length, 4);
  t.deepEqual(warmPlans.map((p) => JSON.stringify(p)).sort(), want.sort());
  t.is(requests(s).length, resetVlan ? 20 : 4, resetVlan ? 'the reset mode sets every tag again' : 'a warm burst is one request per port');
}

test('a burst of 4 VLAN binds on one NIC of 4 vhosts: 20 requests fresh, then 4 warm', (t) => burst(t, false));
test('a burst of 4 VLAN binds with --unplug-resets-vlan: 20 requests fresh and 20 warm', (t) => burst(t, true));

test('spp agent --unplug-resets-vlan (the flag, in a child process): the VLAN unplug resets the tags', async (t) => {
  const s = await startSystem(t, { agent: false });
  s.spawnAgent(['--unplug-resets-vlan']);
  const a = port(1, 100);
  await pyBind(s.client, s.host, a);
  await waitUp(s.client, s.host, a.portId);
  s.sim.emulator.clearLog();
  await pyUnbind(s.client, s.host, a.portId);
  await waitGone(s.client, s.host, a.portId);
  t.deepEqual(requests(s), resetUnplug(a));
});
