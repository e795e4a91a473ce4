/**
 * The agent's side of TaaS against a real etcd and the emulator's spp_vf and
 * spp_mirror: the requests of IN, OUT and BOTH are the final Python agent's
 * (upstream-final 1b), sent in an order that respects the plan's
 * dependencies; the keys written and deleted are upstream's.
 */
import test, { type ExecutionContext } from 'ava';
import { createTap, deleteTap } from '../src/driver';
import { keys } from '../src/protocol/keys';
import { pyBind, waitUp } from './helpers/neutron';
import { requests, type System, startSystem, until } from './helpers/system';

const MIRROR_SEC = 3;
// the seed host: 2 NICs, 4 vhosts; mirror k has rings ring:8+2k (service side) and ring:9+2k (source side)
const SERVICE = { portId: 'a0000000-0000-0000-0000-00000000000d', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:00:d1' };
const SOURCE = { portId: 'a0000000-0000-0000-0000-00000000000s', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:00:51' };

async function tapSystem(t: ExecutionContext, extra: { agent?: boolean } = {}): Promise<System> {
  const s = await startSystem(t, {
    build: { format: 'final', mirrors: { count: 2, coreMask: '0x30001' } },
    emulator: { mirrors: [{ secId: MIRROR_SEC, coreMask: '0x30001' }] },
    settings: { resyncInterval: '1' },
    ...(extra.agent === false ? { agent: false } : {}),
  });
  return s;
}

async function bindBoth(s: System): Promise<void> {
  for (const p of [SERVICE, SOURCE]) await pyBind(s.client, s.host, p);
  for (const p of [SERVICE, SOURCE]) await waitUp(s.client, s.host, p.portId);
}

/** Mirror components made at start-up, as upstream: the configured ones, no ports. */
async function mirrorReady(s: System): Promise<void> {
  await until(() => s.agent?.controller.view().mirror?.tags.includes('up') === true, 'the mirror ready');
}

const vf = (secId: number, component: string, action: string, port: string, dir: string) => ({
  method: 'PUT',
  path: `/v1/vfs/${secId}/components/${component}/ports`,
  body: { action, port, dir },
});
const mir = (component: string, action: string, port: string, dir: string) => ({
  method: 'PUT',
  path: `/v1/mirrors/${MIRROR_SEC}/components/${component}/ports`,
  body: { action, port, dir },
});

// upstream-final 1b, with s = 2 (vf 2), d = 1 (vf 1)
const IN_PLUG = (k: number) => [
  vf(1, 'forward_1_tx', 'attach', `ring:${8 + 2 * k}`, 'rx'),
  mir(`mirror_${k}`, 'attach', `ring:${8 + 2 * k}`, 'tx'),
  vf(2, 'forward_2_tx', 'attach', `ring:${9 + 2 * k}`, 'rx'),
  mir(`mirror_${k}`, 'attach', `ring:${9 + 2 * k}`, 'tx'),
  vf(2, 'forward_2_tx', 'detach', 'ring:4', 'rx'),
  mir(`mirror_${k}`, 'attach', 'ring:4', 'rx'),
];
const OUT_PLUG = (k: number) => [
  vf(1, 'forward_1_tx', 'attach', `ring:${8 + 2 * k}`, 'rx'),
  mir(`mirror_${k}`, 'attach', `ring:${8 + 2 * k}`, 'tx'),
  vf(2, 'forward_2_rx', 'detach', 'ring:5', 'tx'),
  mir(`mirror_${k}`, 'attach', 'ring:5', 'tx'),
  mir(`mirror_${k}`, 'attach', `ring:${9 + 2 * k}`, 'rx'),
  vf(2, 'forward_2_rx', 'attach', `ring:${9 + 2 * k}`, 'tx'),
];
const IN_UNPLUG = (k: number) => [
  mir(`mirror_${k}`, 'detach', 'ring:4', 'rx'),
  vf(2, 'forward_2_tx', 'attach', 'ring:4', 'rx'),
  mir(`mirror_${k}`, 'detach', `ring:${9 + 2 * k}`, 'tx'),
  vf(2, 'forward_2_tx', 'detach', `ring:${9 + 2 * k}`, 'rx'),
  mir(`mirror_${k}`, 'detach', `ring:${8 + 2 * k}`, 'tx'),
  vf(1, 'forward_1_tx', 'detach', `ring:${8 + 2 * k}`, 'rx'),
];
const OUT_UNPLUG = (k: number) => [
  vf(2, 'forward_2_rx', 'detach', `ring:${9 + 2 * k}`, 'tx'),
  mir(`mirror_${k}`, 'detach', `ring:${9 + 2 * k}`, 'rx'),
  mir(`mirror_${k}`, 'detach', 'ring:5', 'tx'),
  vf(2, 'forward_2_rx', 'attach', 'ring:5', 'tx'),
  mir(`mirror_${k}`, 'detach', `ring:${8 + 2 * k}`, 'tx'),
  vf(1, 'forward_1_tx', 'detach', `ring:${8 + 2 * k}`, 'rx'),
];

const sorted = (rs: readonly unknown[]): string[] => rs.map((r) => JSON.stringify(r)).sort();
const indexOf = (rs: readonly unknown[], r: unknown): number => rs.findIndex((x) => JSON.stringify(x) === JSON.stringify(r));

/** `a` was answered before `b` was sent: the emulator logs a request when it arrives, so a before b in the log is the least. */
function before(t: ExecutionContext, rs: readonly unknown[], a: unknown, b: unknown): void {
  const i = indexOf(rs, a);
  const j = indexOf(rs, b);
  t.true(i >= 0 && j >= 0 && i < j, `${JSON.stringify(a)} before ${JSON.stringify(b)}`);
}

for (const dir of ['IN', 'OUT', 'BOTH'] as const) {
  test(`tap ${dir}: upstream's requests, its keys; delete: upstream's requests, mirrors freed, the flow's keys gone; a restart sends nothing`, async (t) => {
    const s = await tapSystem(t);
    await bindBoth(s);
    await mirrorReady(s);
    const tf = `tf-${dir.toLowerCase()}`;
    s.sim.emulator.clearLog();
    const created = await createTap(s.client, {
      host: s.host,
      tapFlowId: tf,
      servicePort: SERVICE.portId,
      sourcePort: SOURCE.portId,
      direction: dir,
      wait: true,
      timeoutMs: 15_000,
    });
    t.is(created.outcome, 'up');
    const plug = requests(s);
    const expectedPlug = dir === 'IN' ? IN_PLUG(0) : dir === 'OUT' ? OUT_PLUG(0) : [...IN_PLUG(0), ...OUT_PLUG(1)];
    t.deepEqual(sorted(plug), sorted(expectedPlug), 'the same requests as the final Python agent');
    t.is(plug.length, expectedPlug.length, 'none twice');
    if (dir !== 'OUT') {
      const [d1, m2, s3, m4, s5, m6] = IN_PLUG(0);
      for (const prep of [d1, m2, s3, m4]) before(t, plug, prep, s5);
      before(t, plug, m2, m4);
      before(t, plug, s5, m6);
    }
    if (dir !== 'IN') {
      const [d1, m2, s3, m4, m5, s6] = OUT_PLUG(dir === 'OUT' ? 0 : 1);
      for (const prep of [d1, m2, m4, m5]) before(t, plug, prep, s3);
      before(t, plug, s3, s6);
    }
    t.is(await s.client.get(keys.tapStatus(s.host, tf)).string(), 'up');
    const view = s.agent!.controller.view().taps!.find((f) => f.flowId === tf)!;
    t.is(view.direction, dir);
    t.true(view.tags.includes('up'));

    // a restart with the flow in place: no mutating request
    await s.stopAgent();
    s.sim.emulator.clearLog();
    s.startAgent();
    await until(
      () =>
        s.agent?.controller
          .view()
          .taps?.find((f) => f.flowId === tf)
          ?.tags.includes('up') === true,
      'the flow up again after the restart',
    );
    t.deepEqual(requests(s), [], 'a restart with the flow in place sends nothing');

    s.sim.emulator.clearLog();
    const deleted = await deleteTap(s.client, { host: s.host, tapFlowId: tf, wait: true, timeoutMs: 15_000 });
    t.is(deleted.outcome, 'deleted');
    const unplug = requests(s);
    const expectedUnplug = dir === 'IN' ? IN_UNPLUG(0) : dir === 'OUT' ? OUT_UNPLUG(0) : [...IN_UNPLUG(0), ...OUT_UNPLUG(1)];
    t.deepEqual(sorted(unplug), sorted(expectedUnplug));
    t.is(unplug.length, expectedUnplug.length);
    for (const k of [0, 1]) t.is(await s.client.get(keys.mirror(s.host, k)).string(), 'None');
    for (const key of [keys.tapInfo(s.host, tf), keys.tapAction(s.host, tf), keys.tapStatus(s.host, tf)]) t.false(await s.client.get(key).exists(), key);
    // the vfs are back as the layout builds them
    const vf2 = await s.vfStatus(2);
    const fwd = vf2.components.find((c) => 'name' in c && c.name === 'forward_2_tx') as { rx_port: { port: string }[] };
    t.deepEqual(
      fwd.rx_port.map((p) => p.port),
      ['ring:4'],
    );
  });
}
