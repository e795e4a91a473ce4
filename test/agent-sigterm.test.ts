/**
 * issue 20, defect 3: SIGTERM in the middle of a paced VLAN plug (5 spp-ctl
 * commands, the emulator answering at spp_vf's poll ticks). After the
 * signal no new request is sent; the one in flight gets its answer; only
 * then is the host lock released; the process exits 0 within 2 s of that
 * answer; a restarted agent finishes the plug with exactly one classifier
 * entry and the right VLAN tags.
 */
import test from 'ava';
import { observeVhost } from '../src/plan/observed';
import { planVhost } from '../src/plan/planner';
import { keys } from '../src/protocol/keys';
import { hostLayout, targetsOf } from '../src/protocol/layout';
import { pyBind, waitUp } from './helpers/neutron';
import { startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

// one NIC with 5 vhosts: one vhost per case, so every case starts from a plugged host and adds one port
const MAPPINGS = '00:04.0#phys1#5#0x3ffe';
const POLL_MS = 500;
/** Every request waits at least this long, so even the first command is surely pending when the test looks. */
const LATENCY_MS = 150;
const COMMANDS = 5;

test(`SIGTERM during each of the ${COMMANDS} commands of a paced VLAN plug: nothing sent after it, the lock released after the in-flight answer, exit 0 within 2 s, the plug finished by a restarted agent`, async (t) => {
  const s = await startSystem(t, { agent: false, mappings: MAPPINGS });
  const layout = hostLayout(s.configuration)[0]!;
  const emu = s.sim.emulator;
  const started = (): Promise<unknown> => until(() => /"message":"nic state".*"state":"ready"/.test(s.childOutput), 'the NIC ready', 20_000);
  s.spawnAgent();
  await started();
  emu.setPollInterval(POLL_MS);
  emu.setLatency(LATENCY_MS);
  for (let k = 1; k <= COMMANDS; k++) {
    const port = { portId: `a2000000-0000-0000-0000-00000000000${k}`, vhostId: k - 1, phys: 'phys1', mac: `fa:16:3e:00:40:0${k}`, vlan: 300 + k };
    const child = s.child!;
    const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
    let release: { at: number; pending: number } | undefined;
    const lockWatch = await s.client.watch().key(keys.agentLock(s.host)).create();
    lockWatch.on('delete', () => {
      release ??= { at: Date.now(), pending: emu.log().filter((e) => e.status === null && !e.dropped).length };
    });
    emu.clearLog();

    await pyBind(s.client, s.host, port);
    const mutating = (): Array<ReturnType<typeof emu.log>[number]> => emu.log().filter((e) => e.method !== 'GET');
    let inFlight: ReturnType<typeof emu.log>[number] | undefined;
    for (const deadline = Date.now() + 15_000; !inFlight; ) {
      const m = mutating();
      if (m.length >= k) {
        t.is(m[k - 1]!.status, null, `case ${k}: command ${k} is still pending when the test sees it`);
        inFlight = m[k - 1];
      } else if (Date.now() > deadline) t.fail(`case ${k}: command ${k} never came`);
      else await sleep(3);
    }
    const sentBefore = emu.log().length;
    child.kill('SIGTERM');
    let answeredAt: number | undefined;
    while (answeredAt === undefined) {
      if (inFlight!.status !== null) answeredAt = Date.now();
      else await sleep(2);
    }
    const exit = await exited;
    await lockWatch.cancel();

    t.is(exit.code, 0, `case ${k}: ${s.childOutput.slice(-1500)}`);
    t.is(emu.log().length, sentBefore, `case ${k}: no request after SIGTERM: ${JSON.stringify(emu.log().slice(sentBefore))}`);
    t.is(mutating().length, k, `case ${k}: commands 1..${k} sent, none after`);
    t.true(
      emu.log().every((e) => e.status !== null),
      `case ${k}: the in-flight command was answered`,
    );
    t.not(release, undefined, `case ${k}: the lock was released`);
    // exact: the emulator marks the answer before sending it, the lock's delete is seen after it happened
    t.is(release!.pending, 0, `case ${k}: nothing pending in spp-ctl when the lock went`);
    // the answer's time is polled every 2 ms: allow that much
    t.true(release!.at >= answeredAt - 3, `case ${k}: the lock was released ${answeredAt - release!.at} ms before the answer`);
    t.true(exit.at - answeredAt < 2000, `case ${k}: exit ${exit.at - answeredAt} ms after the answer`);
    t.is(await s.client.get(keys.agentLock(s.host)).string(), null);

    // the restarted agent finishes the plug
    s.childOutput = '';
    s.spawnAgent();
    await waitUp(s.client, s.host, port.portId, 20_000);
    const status = await s.vfStatus(1);
    const desired = { mac: port.mac, vlan: port.vlan };
    t.is(
      status.classifier_table.filter((e) => e.value.toUpperCase().endsWith(port.mac.toUpperCase())).length,
      1,
      `case ${k}: ${JSON.stringify(status.classifier_table)}`,
    );
    t.is(status.classifier_table.length, k, `case ${k}: one entry per port plugged so far`);
    const seen = observeVhost(status, targetsOf(layout, port.vhostId));
    t.deepEqual(seen.rule, desired, `case ${k}: the classifier entry`);
    t.deepEqual(seen.fromVm, { operation: 'add', id: port.vlan, pcp: 0 }, `case ${k}: tag added on the way from the VM`);
    t.deepEqual(seen.toVm?.operation, 'del', `case ${k}: tag removed on the way to the VM`);
    t.deepEqual(planVhost(layout, port.vhostId, desired, status), [], `case ${k}: nothing left to do`);
    t.is(await s.client.get(keys.portStatus(s.host, port.portId)).string(), 'up');
  }
});
