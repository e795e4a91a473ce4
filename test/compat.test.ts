/**
 * Behaviour of the original Python driver and the real spp-ctl that a fast,
 * correct agent must survive (spec: "Pitfalls of the original", spp-ctl
 * section 0).
 */
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { pyBind, pyUnbind, waitForValue, waitGone, waitUp } from './helpers/neutron';
import { nicsReady, requests, startSystem, until } from './helpers/system';

test('a watcher started only after the action put (as the original driver does) still sees up in 100 of 100 binds', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  let seen = 0;
  for (let i = 0; i < 100; i++) {
    const port = `e0000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
    const vhostId = i % 4;
    await pyBind(s.client, s.host, {
      portId: port,
      vhostId,
      phys: vhostId < 2 ? 'phys1' : 'phys2',
      mac: `fa:16:3e:00:01:${(i % 256).toString(16).padStart(2, '0')}`,
    });
    // the original driver: watch port_status from "now", after the action put
    const watcher = await s.client.watch().key(keys.portStatus(s.host, port)).create();
    const up = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      watcher.on('put', (kv) => {
        if (kv.value.toString() === 'up') {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    await watcher.cancel();
    if (up) seen += 1;
    await pyUnbind(s.client, s.host, port);
    await waitGone(s.client, s.host, port);
  }
  t.is(seen, 100);
});

test("a stale classifier entry on the ring (behind the agent's back) is repaired: re-read, delete, add; the port comes up", async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  // another tool added an entry on ring:0 after the agent read the status
  const reply = s.sim.emulator.vf(1).execute('classifier_table add mac 02:00:00:00:00:99 ring:0');
  t.is((reply as { results: Array<{ result: string }> }).results[0]!.result, 'success');
  s.sim.emulator.clearLog();
  const port = 'f0000000-0000-0000-0000-000000000001';
  await pyBind(s.client, s.host, { portId: port, vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:02:01' });
  await waitUp(s.client, s.host, port);
  const log = s.sim.emulator.log().map((e) => `${e.method} ${e.path} ${e.status}${e.body ? ` ${e.body}` : ''}`);
  t.deepEqual(
    log.map((l) => l.replace(/ \{.*/, '')),
    ['PUT /v1/vfs/1/classifier_table 400', 'GET /v1/vfs/1 200', 'PUT /v1/vfs/1/classifier_table 204', 'PUT /v1/vfs/1/classifier_table 204'],
  );
  t.regex(log[2]!, /"action":"del".*02:00:00:00:00:99/i);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:02:01', port: 'ring:0' }]);
  t.truthy(s.logs.find((r) => r.message === 'spp-ctl rejected a command; re-reading the vf status to plan a repair' && r.port === port));
});

test("a ring detached behind the agent's back is the NIC's problem: the layout is rebuilt, the entry it hid is deleted, the port comes up (never error)", async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  // An entry on ring:2, then ring:2 detached from the classifier: spp_vf hides
  // the entry and rejects every add on ring:2. The re-read vf lacks a port of
  // the layout, so the NIC is rebuilt (re-attaching ring:2 shows the entry
  // again) and the port's plan deletes it before adding its own.
  const vf = s.sim.emulator.vf(1);
  vf.execute('classifier_table add mac 02:00:00:00:00:98 ring:2');
  vf.execute('port del ring:2 tx classifier');
  const port = 'f0000000-0000-0000-0000-000000000002';
  await pyBind(s.client, s.host, { portId: port, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:02:02' });
  await waitUp(s.client, s.host, port);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:02:02', port: 'ring:2' }]);
  t.truthy(s.logs.find((r) => r.message === 'spp_vf lost its layout; rebuilding the NIC before the port' && r.port === port));
  t.false(s.logs.some((r) => r.message === 'port failed'));
});

test('a rejection the repair cannot fix, with the layout intact, fails that port only (error status), never the agent', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  // Attaching a ring the primary never created wedges spp_vf 1: every later
  // port or classifier command answers `error occur`, and its status shows
  // the layout as it was, so the repaired plan is rejected as well.
  const vf = s.sim.emulator.vf(1);
  t.regex(vf.reply('port add ring:20 rx merger') ?? '', /error occur/);
  const bad = 'f0000000-0000-0000-0000-000000000002';
  await pyBind(s.client, s.host, { portId: bad, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:02:02' });
  const status = await waitForValue(s.client, keys.portStatus(s.host, bad), (v) => v !== undefined);
  t.regex(status!, /^error: spp-ctl rejected the plan for vhost 1 even after re-reading the vf status: /);
  const good = 'f0000000-0000-0000-0000-000000000003';
  await pyBind(s.client, s.host, { portId: good, vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:02:03' });
  await waitUp(s.client, s.host, good);
  t.deepEqual((await s.vfStatus(2)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:02:03', port: 'ring:4' }]);
  t.is(s.logs.filter((r) => r.message === 'port failed' && r.port === bad).length, 1, 'reported once, not in a loop');
});

test("a 500 on the vf status read (the real spp-ctl's 4096-byte limit) is logged with its cause and what to do", async (t) => {
  // 6 vhosts on one NIC: the status is over 4096 bytes, which the real spp-ctl answers with 500
  const s = await startSystem(t, { mappings: '00:04.0#phys1#6#0xfffe', settings: { resyncInterval: '0.3' } });
  const rec = await until(
    () => s.logs.find((r) => r.message === 'spp_vf not usable yet' && /4096 bytes/.test(String(r.lastError))),
    'the 4096-byte cause in the log',
    15_000,
  );
  t.regex(String(rec.lastError), /at most 5 vhosts per NIC/);
  // the layout was built while the status was still small; later reads fail, and are retried, not fatal
  t.is(requests(s).filter((r) => r.method === 'POST').length, 14, 'components started once');
});

test('SPP 18.08.3: the same 6-vhost NIC is then left out of GET /v1/processes, and the log says why that may be', async (t) => {
  const s = await startSystem(t, { mappings: '00:04.0#phys1#6#0xfffe', emulator: { sppVersion: '18.08.3' }, settings: { resyncInterval: '0.3' } });
  const rec = await until(
    () => s.logs.find((r) => r.message === 'spp_vf not usable yet' && /is not connected to spp-ctl/.test(String(r.lastError))),
    'the vf missing from /v1/processes, in the log',
    15_000,
  );
  t.regex(
    String(rec.lastError),
    /GET \/v1\/processes lists primary; if it runs: from SPP 18\.08\.3 to 19\.08 spp-ctl leaves out a vf whose status is 4096 bytes or more/,
  );
  t.false((await (await fetch(`${s.sim.url}/v1/processes`)).text()).includes('client-id'));
});

test('the emulator in its lenient mode serves the same 6-vhost NIC', async (t) => {
  const s = await startSystem(t, { mappings: '00:04.0#phys1#6#0xfffe', emulator: { lenient: true } });
  await nicsReady(s);
  const port = 'f0000000-0000-0000-0000-000000000004';
  await pyBind(s.client, s.host, { portId: port, vhostId: 5, phys: 'phys1', mac: 'fa:16:3e:00:02:04', vlan: 42 });
  await waitUp(s.client, s.host, port);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'vlan', value: '42/FA:16:3E:00:02:04', port: 'ring:10' }]);
});
