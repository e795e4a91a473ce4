import test from 'ava';
import { keys } from '../src/protocol/keys';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { requests, startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

const PORTS = [
  { portId: 'c0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:00:10' },
  { portId: 'c0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:00:11', vlan: 101 },
  { portId: 'c0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:00:12' },
  { portId: 'c0000000-0000-0000-0000-000000000003', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:00:13', vlan: 103 },
];

/** The agent's JSON log shows the port's plug run ended (`port is up`, whether it put port_status or found it up). */
const plugLogged = (output: string, portId: string): boolean =>
  output.split('\n').some((l) => l.includes('"message":"port is up"') && l.includes(`"port":"${portId}"`));

test('SIGKILL and restart with 4 ports (2 flat, 2 VLAN): no mutating request, ports re-announced up; an action changed while down is handled', async (t) => {
  const s = await startSystem(t, { agent: false });
  s.spawnAgent();
  for (const p of PORTS) await pyBind(s.client, s.host, p);
  for (const p of PORTS) await waitUp(s.client, s.host, p.portId);
  const statusBefore = await s.vfStatuses();

  // 1: nothing changed while the agent was dead
  await s.killChild('SIGKILL');
  s.sim.emulator.clearLog();
  const firstFrom = s.childOutput.length;
  s.spawnAgent();
  // up is put again only where a driver may still wait for it (test/up-writes.test.ts counts the puts)
  for (const p of PORTS) await until(() => plugLogged(s.childOutput.slice(firstFrom), p.portId), `${p.portId} plugged again after the restart`);
  for (const p of PORTS) t.is(await s.client.get(keys.portStatus(s.host, p.portId)).string(), 'up');
  t.deepEqual(requests(s), [], 'a restart on an unchanged host sends no mutating request');
  t.deepEqual(await s.vfStatuses(), statusBefore);

  // 2: port 3 (VLAN) was unbound while the agent was dead
  await s.killChild('SIGKILL');
  s.sim.emulator.clearLog();
  await pyUnbind(s.client, s.host, PORTS[3]!.portId);
  s.spawnAgent();
  await waitGone(s.client, s.host, PORTS[3]!.portId);
  const after = requests(s);
  // the vhost keeps its VLAN tags (no classifier entry sends it anything): the unplug is the entry's removal alone
  t.deepEqual(
    after,
    [
      {
        method: 'PUT',
        path: '/v1/vfs/2/classifier_table',
        body: { action: 'del', type: 'vlan', mac_address: 'fa:16:3e:00:00:13', port: 'ring:6', vlan: 103 },
      },
    ],
    'the VLAN unplug and nothing else',
  );
  for (const p of PORTS.slice(0, 3)) t.is(await s.client.get(keys.portStatus(s.host, p.portId)).string(), 'up');
  t.is(await s.client.get(keys.vhost(s.host, 'phys2', 3)).string(), 'None');

  // 3: a restart with tags left on a free vhost: the NIC build leaves them, nothing is sent
  const tagged = await s.vfStatuses();
  await s.killChild('SIGKILL');
  s.sim.emulator.clearLog();
  const from = s.childOutput.length;
  s.spawnAgent();
  for (const p of PORTS.slice(0, 3)) await until(() => plugLogged(s.childOutput.slice(from), p.portId), `${p.portId} plugged again after the third start`);
  const ready = (): number =>
    s.childOutput
      .slice(from)
      .split('\n')
      .filter((l) => l.includes('"nic state"') && l.includes('"state":"ready"')).length;
  await until(() => ready() >= 2, 'both NICs ready after the third start');
  t.deepEqual(requests(s), [], 'tags on a free vhost are no reason for a command');
  t.deepEqual(await s.vfStatuses(), tagged);

  // 4: a flat port bound on that vhost while the agent was down: its plan, and only its plan, removes the tags
  await s.killChild('SIGKILL');
  s.sim.emulator.clearLog();
  const flat = { portId: 'c0000000-0000-0000-0000-000000000004', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:00:14' };
  await pyBind(s.client, s.host, flat);
  s.spawnAgent();
  await waitUp(s.client, s.host, flat.portId);
  const ports = '/v1/vfs/2/components';
  t.deepEqual(requests(s), [
    { method: 'PUT', path: `${ports}/forward_3_rx/ports`, body: { action: 'detach', port: 'vhost:3', dir: 'rx' } },
    { method: 'PUT', path: `${ports}/forward_3_rx/ports`, body: { action: 'attach', port: 'vhost:3', dir: 'rx' } },
    { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'detach', port: 'ring:6', dir: 'tx' } },
    { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'attach', port: 'ring:6', dir: 'tx' } },
    { method: 'PUT', path: '/v1/vfs/2/classifier_table', body: { action: 'add', type: 'mac', mac_address: flat.mac, port: 'ring:6' } },
  ]);
});

test('SIGTERM: the agent exits 0 within 2 s and its liveness key is gone at once', async (t) => {
  const s = await startSystem(t, { agent: false });
  const child = s.spawnAgent();
  await until(async () => (await s.client.get(keys.agent(s.host)).string()) !== null, 'liveness key');
  await pyBind(s.client, s.host, PORTS[0]!);
  await waitUp(s.client, s.host, PORTS[0]!.portId);
  const started = Date.now();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const code = await exited;
  const took = Date.now() - started;
  t.is(code, 0, s.childOutput.slice(-2000));
  t.true(took < 2000, `exit took ${took} ms`);
  t.is(await s.client.get(keys.agent(s.host)).string(), null, 'lease revoked, key deleted');
});

test('the agent keeps working across an etcd restart', async (t) => {
  const s = await startSystem(t);
  await pyBind(s.client, s.host, PORTS[0]!);
  await waitUp(s.client, s.host, PORTS[0]!.portId);
  await s.etcd.stopMember('m0');
  await sleep(1500);
  await s.etcd.startMember('m0');
  await pyBind(s.client, s.host, PORTS[2]!);
  await waitUp(s.client, s.host, PORTS[2]!.portId, 20_000);
  await pyUnbind(s.client, s.host, PORTS[0]!.portId);
  await waitGone(s.client, s.host, PORTS[0]!.portId, 20_000);
  t.deepEqual((await s.vfStatus(2)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:00:12', port: 'ring:4' }]);
  t.deepEqual((await s.vfStatus(1)).classifier_table, []);
});

test('an spp_vf restart is noticed by the periodic resync: layout rebuilt, plugged ports re-applied and still up', async (t) => {
  const s = await startSystem(t, { settings: { resyncInterval: '0.3' } });
  await pyBind(s.client, s.host, PORTS[0]!);
  await pyBind(s.client, s.host, PORTS[1]!);
  await waitUp(s.client, s.host, PORTS[0]!.portId);
  await waitUp(s.client, s.host, PORTS[1]!.portId);
  const before = await s.vfStatus(1);
  s.sim.emulator.restartVf(1);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [], 'the restart lost the table');
  await until(async () => JSON.stringify(await s.vfStatus(1)) === JSON.stringify(before), 'vf 1 rebuilt as before', 10_000);
  t.is(await s.client.get(keys.portStatus(s.host, PORTS[0]!.portId)).string(), 'up');
  t.is(await s.client.get(keys.portStatus(s.host, PORTS[1]!.portId)).string(), 'up');
});

test('an spp-ctl restart (the server gone, then back empty) is survived the same way', async (t) => {
  const s = await startSystem(t, { settings: { resyncInterval: '0.3', sppCtlTimeout: '1' } });
  await pyBind(s.client, s.host, PORTS[2]!);
  await waitUp(s.client, s.host, PORTS[2]!.portId);
  const before = await s.vfStatus(2);
  await s.restartSim();
  await until(async () => JSON.stringify(await s.vfStatus(2).catch(() => undefined)) === JSON.stringify(before), 'vf 2 rebuilt', 15_000);
  await pyBind(s.client, s.host, PORTS[0]!);
  await waitUp(s.client, s.host, PORTS[0]!.portId);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:00:10', port: 'ring:0' }]);
});
