/**
 * issue 20, defect 1: a plug right after (or during) an spp_vf restart, or
 * after an spp-ctl restart, must never be reported as `error`: the re-read vf
 * lacks the NIC's layout, so the NIC is rebuilt and the port waits for it.
 * Every value port_status ever held is checked (a watch from the bind's
 * revision), not only the last one. The periodic resync is 30 s, so coming up
 * within a few seconds is the fix's doing, not the resync's.
 */
import test, { type ExecutionContext } from 'ava';
import { keys, prefixes } from '../src/protocol/keys';
import { currentRevision, watchHistory } from './helpers/history';
import { pyBind, waitUp } from './helpers/neutron';
import { nicsReady, type System, startSystem } from './helpers/system';

const BYSTANDER = { portId: 'e0000000-0000-0000-0000-0000000000b1', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:20:01', vlan: 201 };
const PORT = { portId: 'e0000000-0000-0000-0000-000000000001', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:20:00' };

/** Binds PORT after `disturb` and checks that it comes up without port_status ever being an error. */
async function plugAcross(t: ExecutionContext, s: System, disturb: () => Promise<void> | void, upWithinMs: number, bindDuring = false): Promise<void> {
  const statusKey = keys.portStatus(s.host, PORT.portId);
  const bystanderKey = keys.portStatus(s.host, BYSTANDER.portId);
  // both ports' port_status keys, from before the bind on
  const history = await watchHistory(s.client, prefixes.portStatusOfHost(s.host), { fromRevision: (await currentRevision(s.client)) + 1 });
  t.teardown(() => history.close());
  const disturbed = disturb();
  if (!bindDuring) await disturbed;
  await pyBind(s.client, s.host, PORT);
  await disturbed;
  await waitUp(s.client, s.host, PORT.portId, upWithinMs);
  await history.caughtUp(statusKey);
  const values = history.values(statusKey);
  t.true(values.length > 0);
  t.deepEqual(
    values.filter((v) => v !== 'up'),
    [],
    `port_status history: ${JSON.stringify(values)}`,
  );
  await history.caughtUp(bystanderKey);
  t.deepEqual(
    history.values(bystanderKey).filter((v) => v !== 'up'),
    [],
    'the bystander never saw error either',
  );
  // the rebuilt vf carries both ports: the new one and the bystander's entry re-applied
  const table = (await s.vfStatus(1)).classifier_table;
  t.deepEqual(table.map((e) => e.value).sort(), ['201/FA:16:3E:00:20:01', 'FA:16:3E:00:20:00'], JSON.stringify(table));
  t.is(await s.client.get(keys.portStatus(s.host, BYSTANDER.portId)).string(), 'up');
  t.false(
    s.logs.some((r) => r.message === 'port failed'),
    'no port failed',
  );
}

async function system(t: ExecutionContext): Promise<System> {
  const s = await startSystem(t, { settings: { sppCtlTimeout: '1' } });
  await nicsReady(s);
  await pyBind(s.client, s.host, BYSTANDER);
  await waitUp(s.client, s.host, BYSTANDER.portId);
  return s;
}

test('a plug right after an spp_vf restart comes up; port_status is never error', async (t) => {
  const s = await system(t);
  await plugAcross(t, s, () => s.sim.emulator.restartVf(1), 5000);
  t.true(
    s.logs.some((r) => r.message === 'spp_vf lost its layout; rebuilding the NIC before the port'),
    'the rejection was recognised as a NIC-level problem',
  );
});

test('a plug while an spp_vf restart is in progress (downMs) comes up; port_status is never error', async (t) => {
  const s = await system(t);
  await plugAcross(t, s, () => s.sim.emulator.restartVf(1, 1500), 8000);
});

test('a plug right after an spp-ctl process restart (emulator killed, started again) comes up; port_status is never error', async (t) => {
  const s = await system(t);
  await plugAcross(t, s, () => s.restartSim(300), 8000);
});

test('a plug while spp-ctl is down (emulator killed) comes up once it is back; port_status is never error', async (t) => {
  const s = await system(t);
  await plugAcross(t, s, () => s.restartSim(1000), 10_000, true);
});
