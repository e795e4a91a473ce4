/**
 * issue 30: the agent against each emulated SPP release, with no flag. A full
 * pass (flat plug, VLAN plug, agent restart, spp_vf restart, unplug, with the
 * exact requests) on 18.08 and 19.11, a quick pass (plug, VLAN, unplug) on
 * 18.08.2, 18.08.3 and 18.08.4. One system per release; every release answers
 * at once (the emulator's default), 18.08.2 and later as the real ones do;
 * one more quick pass on 18.08 answers at spp_vf's loop ticks.
 */
import test, { type ExecutionContext } from 'ava';
import { keys } from '../src/protocol/keys';
import { collectReport } from '../src/report/collect';
import type { ReleaseFamily, SppRelease } from '../src/sppctl/releases';
import { releasesOf } from '../src/sppctl/releases';
import { hostPage } from '../src/viz/host-page';
import { runCli } from './helpers/cli';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { opsUrl, scrape } from './helpers/ops';
import { classified, entryOf, nicsReady, requests, type System, startSystem, until } from './helpers/system';

const FLAT: PyPort = { portId: 'f3000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:30:00:00' };
const VLAN: PyPort = { portId: 'f3000000-0000-0000-0000-000000000003', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:30:00:03', vlan: 300 };
const LATE: PyPort = { portId: 'f3000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:30:00:01' };

const FAMILY: Record<string, ReleaseFamily> = {
  '18.08': '<=18.08.2',
  '18.08.2': '<=18.08.2',
  '18.08.3': '18.08.3',
  '18.08.4': '>=18.08.4',
  '19.11': '>=18.08.4',
};
const CLASSIFIER: Record<string, string> = { '18.08': 'classifier_mac', '18.08.2': 'classifier_mac', '18.08.3': 'classifier_mac' };

/** The classifier of each vf runs with the release's spelling, and the agent believes the release's family. */
async function checkBuilt(t: ExecutionContext, s: System, release: SppRelease): Promise<void> {
  for (const vf of await s.vfStatuses()) {
    const types = vf.components.flatMap((c) => (c.type === 'unuse' || c.name !== 'classifier' ? [] : [c.type]));
    t.deepEqual(types, [CLASSIFIER[release] ?? 'classifier'], `${release}: vf ${vf['client-id']}`);
  }
  const nics = s.agent!.controller.view().nics;
  t.deepEqual(
    nics.map((n) => n.release?.family),
    [FAMILY[release], FAMILY[release]],
    `${release}: ${JSON.stringify(nics.map((n) => n.release))}`,
  );
  const info = (await scrape(await opsUrl(s.agent))).find((f) => f.name === 'spp_sppctl_release_info');
  t.deepEqual(info?.metrics.map((m) => `${m.labels?.vf} ${m.labels?.family} ${m.value}`).sort(), [`1 ${FAMILY[release]} 1`, `2 ${FAMILY[release]} 1`]);
}

async function plugBoth(t: ExecutionContext, s: System, exact: boolean): Promise<void> {
  s.sim.emulator.clearLog();
  await pyBind(s.client, s.host, FLAT);
  await waitUp(s.client, s.host, FLAT.portId);
  if (exact)
    t.deepEqual(requests(s), [
      { method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'mac', mac_address: FLAT.mac, port: 'ring:0' } },
    ]);
  s.sim.emulator.clearLog();
  await pyBind(s.client, s.host, VLAN);
  await waitUp(s.client, s.host, VLAN.portId);
  if (exact) {
    const ports = '/v1/vfs/2/components';
    t.deepEqual(requests(s), [
      { method: 'PUT', path: `${ports}/forward_3_rx/ports`, body: { action: 'detach', port: 'vhost:3', dir: 'rx' } },
      {
        method: 'PUT',
        path: `${ports}/forward_3_rx/ports`,
        body: { action: 'attach', port: 'vhost:3', dir: 'rx', vlan: { operation: 'add', id: 300, pcp: 0 } },
      },
      { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'detach', port: 'ring:6', dir: 'tx' } },
      { method: 'PUT', path: `${ports}/classifier/ports`, body: { action: 'attach', port: 'ring:6', dir: 'tx', vlan: { operation: 'del' } } },
      { method: 'PUT', path: '/v1/vfs/2/classifier_table', body: { action: 'add', type: 'vlan', mac_address: VLAN.mac, port: 'ring:6', vlan: 300 } },
    ]);
  }
  t.deepEqual(await classified(s), [entryOf(FLAT), entryOf(VLAN)].sort());
}

async function unplugAll(t: ExecutionContext, s: System, ports: readonly PyPort[]): Promise<void> {
  for (const p of ports) await pyUnbind(s.client, s.host, p.portId);
  for (const p of ports) await waitGone(s.client, s.host, p.portId);
  t.deepEqual(await classified(s), []);
  for (const p of ports) t.is(await s.client.get(keys.vhost(s.host, p.phys, p.vhostId)).string(), 'None');
}

/** Refused classifier starts (the fallback): at most one per vf, and none once the agent has learned. */
function refusedStarts(s: System): number {
  return s.sim.emulator.log().filter((e) => e.method === 'POST' && e.status === 500).length;
}

async function full(t: ExecutionContext, release: SppRelease): Promise<void> {
  const s = await startSystem(t, { emulator: { sppVersion: release }, settings: { ops: '127.0.0.1:0' } });
  await nicsReady(s);
  t.true(refusedStarts(s) <= 2, `${release}: ${refusedStarts(s)} refused starts`);
  await checkBuilt(t, s, release);
  await plugBoth(t, s, true);

  // agent restart: an unchanged host gets no mutating request, and the belief comes back from the status
  await s.stopAgent();
  s.sim.emulator.clearLog();
  s.startAgent({ ops: '127.0.0.1:0' });
  await nicsReady(s);
  await until(async () => (await s.client.get(keys.portStatus(s.host, VLAN.portId)).string()) === 'up', 'VLAN port up after the restart');
  await s.agent!.controller.idle();
  t.deepEqual(requests(s), [], `${release}: a restart sends nothing`);
  await checkBuilt(t, s, release);
  t.is(s.agent!.controller.view().nics[0]!.release?.basis, 'status');

  // spp_vf restart: the next plug on it finds the layout gone, rebuilds with the known spelling, re-applies FLAT
  s.sim.emulator.clearLog();
  s.sim.emulator.restartVf(1);
  await pyBind(s.client, s.host, LATE);
  await waitUp(s.client, s.host, LATE.portId, 8000);
  t.is(refusedStarts(s), 0, `${release}: the rebuild uses the spelling learned`);
  t.deepEqual(await classified(s), [entryOf(FLAT), entryOf(LATE), entryOf(VLAN)].sort());
  await checkBuilt(t, s, release);

  await shown(t, s, release);
  await unplugAll(t, s, [FLAT, VLAN, LATE]);
}

/** `spp explain`, `spp report` and the page say which release family the agent believes, and why. */
async function shown(t: ExecutionContext, s: System, release: SppRelease): Promise<void> {
  const family = `SPP ${FAMILY[release]} (${releasesOf(FAMILY[release]!).join(', ')})`;
  const ops = await opsUrl(s.agent);
  const explained = await runCli(['explain', '--host', s.host, '--port-id', FLAT.portId, '--etcd-endpoints', s.etcd.endpoints.join(','), '--ops', ops]);
  t.is(explained.code, 0, explained.err);
  t.true(explained.out.includes(`The agent believes spp_vf 1 runs ${family}: the status`), explained.out);
  const report = await collectReport({ client: s.client, host: s.host, opsUrl: ops, sppCtlUrl: s.sim.url });
  const text = report.files.find((f) => f.path === 'sppctl/release.txt')?.content ?? '';
  t.true(text.includes(`The agent believes spp_vf 2 runs ${family}`), text);
  t.true(text.includes(`spp_vf 2's status as spp-ctl returns it says ${family}`), text);
  const page = hostPage(s.agent!.controller.view());
  t.deepEqual(
    page.drawings.map((d) => d.release?.text),
    [family, family],
  );
}

async function quick(t: ExecutionContext, release: SppRelease, pollIntervalMs = 0): Promise<void> {
  const s = await startSystem(t, { emulator: { sppVersion: release, pollIntervalMs }, settings: { ops: '127.0.0.1:0' } });
  await nicsReady(s);
  await checkBuilt(t, s, release);
  await plugBoth(t, s, false);
  await unplugAll(t, s, [FLAT, VLAN]);
}

for (const release of ['18.08', '19.11'] as const) {
  test(`SPP ${release}, full pass: build, flat and VLAN plug, agent restart, spp_vf restart, unplug`, (t) => full(t, release));
}
for (const release of ['18.08.2', '18.08.3', '18.08.4'] as const) {
  test(`SPP ${release}, quick pass: build, flat and VLAN plug, unplug`, (t) => quick(t, release));
}
// no timing assumed: every command waits for spp_vf's next loop tick (a real 18.08 ticks every 1 s; 50 ms keeps the test short)
test('SPP 18.08 paced by a 50 ms main loop, quick pass: build, flat and VLAN plug, unplug', (t) => quick(t, '18.08', 50));
