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

/** The in-process agent's machine of flow `tf` has the up tag. */
const flowUp = (s: System, tf: string): Promise<true> =>
  until(
    () =>
      s.agent?.controller
        .view()
        .taps?.find((f) => f.flowId === tf)
        ?.tags.includes('up') === true,
    `flow ${tf} up in the view`,
  );

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
    // tap_status is put inside the run: the machine reaches `up` just after
    await flowUp(s, tf);
    const view = s.agent!.controller.view().taps!.find((f) => f.flowId === tf)!;
    t.is(view.direction, dir);
    t.is(view.redirects?.length, dir === 'BOTH' ? 12 : 6);

    // a restart with the flow in place: no mutating request
    await s.stopAgent();
    s.sim.emulator.clearLog();
    s.startAgent();
    await flowUp(s, tf);
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

const infoKey = (s: System, tf: string): string => keys.tapInfo(s.host, tf);

/** Writes a flow as the service driver would, without its checks (to reach the agent's own). */
async function rawFlow(s: System, tf: string, info: Record<string, unknown>): Promise<void> {
  await s.client.put(infoKey(s, tf)).value(JSON.stringify(info));
  await s.client.put(keys.tapAction(s.host, tf)).value('plug');
}

const waitStatus = (s: System, tf: string, re: RegExp): Promise<true> =>
  until(async () => re.test((await s.client.get(keys.tapStatus(s.host, tf)).string()) ?? ''), `tap_status of ${tf} matching ${re}`, 15_000);

test('errors: a second flow IN on the same source, a mirror out of range, an unbound port: tap_status = error naming the key; the first flow and the ports stay up', async (t) => {
  const s = await tapSystem(t);
  await bindBoth(s);
  await mirrorReady(s);
  const first = await createTap(s.client, {
    host: s.host,
    tapFlowId: 'first',
    servicePort: SERVICE.portId,
    sourcePort: SOURCE.portId,
    direction: 'IN',
    wait: true,
  });
  t.is(first.outcome, 'up');
  s.sim.emulator.clearLog();
  await rawFlow(s, 'second', { service_port: SERVICE.portId, source_port: SOURCE.portId, mirror_in: 1, mirror_out: null });
  await waitStatus(s, 'second', /^error: .*tap flow first already mirrors IN of the source port/);
  await rawFlow(s, 'far', { service_port: SERVICE.portId, source_port: SOURCE.portId, mirror_in: null, mirror_out: 7 });
  await waitStatus(s, 'far', /^error: .*tap_info\/spp4\/far: field mirror_out: mirror 7 is not configured/);
  await rawFlow(s, 'unbound', { service_port: 'no-such-port', source_port: SOURCE.portId, mirror_in: null, mirror_out: 1 });
  await waitStatus(s, 'unbound', /^error: .*field service_port: .*bind_port\/spp4\/no-such-port is missing/);
  t.deepEqual(requests(s), [], 'nothing sent for a flow in error');
  t.is(await s.client.get(keys.tapStatus(s.host, 'first')).string(), 'up');
  for (const p of [SERVICE, SOURCE]) t.is(await s.client.get(keys.portStatus(s.host, p.portId)).string(), 'up');
  const failed = s.agent!.controller.view().taps!.filter((f) => f.tags.includes('failed'));
  t.deepEqual(
    failed.map((f) => f.flowId),
    ['far', 'second', 'unbound'],
  );
  t.regex(failed[0]!.lastError ?? '', /mirror 7 is not configured/);
});

test('error: a host without a mirror list: tap_status = error naming the configuration; the ports work', async (t) => {
  const s = await startSystem(t, { build: { format: 'final' } });
  await bindBoth(s);
  await rawFlow(s, 'nomirror', { service_port: SERVICE.portId, source_port: SOURCE.portId, mirror_in: 0, mirror_out: null });
  await waitStatus(s, 'nomirror', /^error: \/spp\/openstack\/configuration\/spp4 has no mirror list/);
  t.is(s.agent!.controller.view().mirror, undefined);
});

test('port unplug cascade: unbinding the source port removes its flow first (upstream unplug requests, mirror freed, keys gone), then the port', async (t) => {
  const s = await tapSystem(t);
  await bindBoth(s);
  await mirrorReady(s);
  await createTap(s.client, { host: s.host, tapFlowId: 'cascade', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN', wait: true });
  s.sim.emulator.clearLog();
  await s.client.put(keys.action(s.host, SOURCE.portId)).value('unplug');
  await until(async () => !(await s.client.get(keys.bindPort(s.host, SOURCE.portId)).exists()), 'the source port unplugged', 15_000);
  const rs = requests(s);
  for (const r of IN_UNPLUG(0)) t.true(indexOf(rs, r) >= 0, JSON.stringify(r));
  const classifierDel = rs.findIndex((r) => r.path === '/v1/vfs/2/classifier_table');
  t.true(classifierDel > indexOf(rs, IN_UNPLUG(0)[5]), "the port's own unplug comes after the flow's");
  t.is(await s.client.get(keys.mirror(s.host, 0)).string(), 'None');
  t.false(await s.client.get(infoKey(s, 'cascade')).exists());
  t.is(await s.client.get(keys.portStatus(s.host, SERVICE.portId)).string(), 'up');
});

test('a mirror restart and a vf restart re-apply a live flow; a failed command converges with no duplicate', async (t) => {
  const s = await tapSystem(t);
  await bindBoth(s);
  await mirrorReady(s);
  // the mirror step that mends the path fails once: the re-plan sends only what is missing
  s.sim.emulator.addFault({ path: '/v1/mirrors/3/components/mirror_0/ports', method: 'PUT', count: 1 });
  s.sim.emulator.clearLog();
  await createTap(s.client, { host: s.host, tapFlowId: 'live', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN' });
  await waitStatus(s, 'live', /^up$/);
  const rs = requests(s);
  for (const r of IN_PLUG(0)) t.true(indexOf(rs, r) >= 0, JSON.stringify(r));
  const m2 = IN_PLUG(0)[1];
  t.is(rs.filter((r) => JSON.stringify(r) === JSON.stringify(m2)).length, 2, 'the failed step again, once');
  t.is(rs.length, IN_PLUG(0).length + 1, 'nothing else twice');

  const mirrorHas = async (): Promise<boolean> => {
    const res = await fetch(`${s.sim.url}/v1/mirrors/3`);
    const st = (await res.json()) as { components: Array<{ name?: string; rx_port?: Array<{ port: string }>; tx_port?: Array<{ port: string }> }> };
    const m = st.components.find((c) => c.name === 'mirror_0');
    return m?.rx_port?.[0]?.port === 'ring:4' && m.tx_port?.length === 2;
  };
  s.sim.emulator.restartVf(MIRROR_SEC);
  await until(mirrorHas, 'the mirror component rebuilt with the flow re-applied', 15_000);

  s.sim.emulator.restartVf(2);
  await until(
    async () => {
      const vf2 = await s.vfStatus(2);
      const fwd = vf2.components.find((c) => 'name' in c && c.name === 'forward_2_tx') as { rx_port: { port: string }[] } | undefined;
      return JSON.stringify(fwd?.rx_port.map((p) => p.port)) === JSON.stringify(['ring:9']);
    },
    'forward_2_tx reads the mirror ring again, not ring:4',
    15_000,
  );
  t.true(await mirrorHas());
});

test('SIGKILL in the middle of an IN plug, then a restart: the flow comes up, every request of the plan answered exactly once', async (t) => {
  const s = await tapSystem(t, { agent: false });
  s.spawnAgent(['--resync-interval', '1']);
  await bindBoth(s);
  const mirrorBuilt = async (): Promise<boolean> => {
    const res = await fetch(`${s.sim.url}/v1/mirrors/${MIRROR_SEC}`);
    return res.status === 200 && ((await res.json()) as { components: Array<{ name?: string }> }).components.some((c) => c.name === 'mirror_1');
  };
  await until(mirrorBuilt, 'the mirror components made', 15_000);
  s.sim.emulator.clearLog();
  s.sim.emulator.setLatency(200);
  await createTap(s.client, { host: s.host, tapFlowId: 'crash', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN' });
  await until(() => requests(s).length >= 4, 'four steps sent', 15_000);
  await s.killChild('SIGKILL');
  // what was in flight is still carried out by the emulator (spp-ctl does not know the agent died)
  await until(() => s.sim.emulator.log().every((e) => e.status !== null || e.dropped === true), 'the requests in flight answered');
  const beforeKill = requests(s).length;
  t.true(beforeKill < IN_PLUG(0).length, `killed mid-plan (${beforeKill} sent)`);
  s.sim.emulator.setLatency(0);
  s.spawnAgent(['--resync-interval', '1']);
  await waitStatus(s, 'crash', /^up$/);
  const answered = s.sim.emulator
    .log()
    .filter((e) => e.method !== 'GET' && e.status === 204)
    .map((e) => ({ method: e.method, path: e.path, body: JSON.parse(e.body ?? 'null') as unknown }));
  t.deepEqual(sorted(answered), sorted(IN_PLUG(0)), 'each step once, none twice');
});
