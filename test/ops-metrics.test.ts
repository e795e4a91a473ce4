import test from 'ava';
import { startAgent } from '../src/daemon/daemon';
import { createLogger } from '../src/log';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { type Family, opsUrl, readyz, sample, scrape } from './helpers/ops';
import { nicsReady, startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

const FLAT = { portId: 'f0000000-0000-0000-0000-000000000001', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0f:01' };
const VLAN = { portId: 'f0000000-0000-0000-0000-000000000002', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:0f:02', vlan: 200 };
const REJECTED = { portId: 'f0000000-0000-0000-0000-000000000003', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0f:03' };

/** What moved between two scrapes, for the series the test looks at. */
function delta(before: Family[], after: Family[], name: string, labels: Record<string, string> = {}): number {
  return sample(after, name, labels) - sample(before, name, labels);
}

const PUT_CLASSIFIER = { method: 'PUT', path: '/v1/vfs/{id}/classifier_table', code: '204' };
const PUT_PORTS = { method: 'PUT', path: '/v1/vfs/{id}/components/{name}/ports', code: '204' };

test('/metrics parses, and its counters move by exactly the plug, VLAN plug, unplug and rejected command', async (t) => {
  // no re-put of `up` after a plug: every port_status write is the plug's own
  const s = await startSystem(t, { settings: { ops: '127.0.0.1:0', reassert: 'off' } });
  const url = await opsUrl(s.agent);
  await nicsReady(s);
  const m0 = await scrape(url);
  t.is(sample(m0, 'spp_nics', { state: 'ready' }), 2);
  t.is(sample(m0, 'spp_host_lock_held'), 1);
  t.is(sample(m0, 'spp_liveness_key_held'), 1);
  t.is(sample(m0, 'spp_agent_ready'), 1);
  t.is(sample(m0, 'spp_agent_info', { host: s.host }), 1);
  t.is(sample(m0, 'spp_build_info'), 1);
  t.is(sample(m0, 'spp_etcd_up'), 1);
  t.is(sample(m0, 'spp_sppctl_up'), 1);
  t.is(sample(m0, 'spp_nics', { state: 'building' }), 0, 'every NIC state is there, at 0 when no NIC is in it');
  t.true(sample(m0, 'spp_etcd_last_applied_revision') > 0);
  t.is(sample(m0, 'spp_etcd_relists_total', { reason: 'start' }), 1);
  t.true(sample(m0, 'process_cpu_seconds_total') >= 0, "prom-client's process metrics are there");
  t.is(sample(m0, 'spp_reconcile_total', { kind: 'nic', result: 'success' }), 2);

  await pyBind(s.client, s.host, FLAT);
  await waitUp(s.client, s.host, FLAT.portId);
  await s.agent!.controller.idle();
  const m1 = await scrape(url);
  t.is(delta(m0, m1, 'spp_sppctl_requests_total', PUT_CLASSIFIER), 1, 'one classifier add');
  t.is(delta(m0, m1, 'spp_sppctl_requests_total', { method: 'PUT' }), 1, 'nothing else sent');
  t.is(delta(m0, m1, 'spp_sppctl_request_duration_seconds', { method: 'PUT' }), 1);
  t.is(delta(m0, m1, 'spp_reconcile_total', { kind: 'port', result: 'success' }), 1);
  t.is(delta(m0, m1, 'spp_etcd_writes_total', { op: 'port_status', result: 'written' }), 1);
  t.is(delta(m0, m1, 'spp_port_convergence_seconds', { action: 'plug' }), 1);
  t.is(sample(m1, 'spp_ports', { state: 'plugged.steady' }), 1);
  t.is(sample(m1, 'spp_ports_unconverged'), 0);
  t.is(sample(m1, 'spp_port_oldest_unconverged_seconds'), 0);
  t.true(sample(m1, 'spp_etcd_last_applied_revision') > sample(m0, 'spp_etcd_last_applied_revision'));

  await pyBind(s.client, s.host, VLAN);
  await waitUp(s.client, s.host, VLAN.portId);
  await s.agent!.controller.idle();
  const m2 = await scrape(url);
  t.is(delta(m1, m2, 'spp_sppctl_requests_total', PUT_PORTS), 4, 'detach and re-attach with tags, twice');
  t.is(delta(m1, m2, 'spp_sppctl_requests_total', PUT_CLASSIFIER), 1);
  t.is(delta(m1, m2, 'spp_reconcile_total', { kind: 'port', result: 'success' }), 1);
  t.is(delta(m1, m2, 'spp_etcd_writes_total', { op: 'port_status', result: 'written' }), 1);
  t.is(delta(m1, m2, 'spp_port_convergence_seconds', { action: 'plug' }), 1);

  await pyUnbind(s.client, s.host, FLAT.portId);
  await waitGone(s.client, s.host, FLAT.portId);
  await s.agent!.controller.idle();
  const m3 = await scrape(url);
  t.is(delta(m2, m3, 'spp_sppctl_requests_total', PUT_CLASSIFIER), 1, 'one classifier del');
  t.is(delta(m2, m3, 'spp_sppctl_requests_total', { method: 'PUT' }), 1);
  t.is(delta(m2, m3, 'spp_etcd_writes_total', { op: 'unplug_cleanup', result: 'written' }), 1);
  t.is(delta(m2, m3, 'spp_port_convergence_seconds', { action: 'unplug' }), 1);
  t.is(delta(m2, m3, 'spp_port_convergence_seconds', { action: 'plug' }), 0);

  // behind the agent's back: another MAC classified to the port's ring, so the agent's add is rejected (400)
  s.sim.emulator.vf(1).execute('classifier_table add mac 02:00:00:00:00:99 ring:2');
  await pyBind(s.client, s.host, REJECTED);
  await waitUp(s.client, s.host, REJECTED.portId);
  await s.agent!.controller.idle();
  const m4 = await scrape(url);
  t.is(delta(m3, m4, 'spp_sppctl_requests_total', { method: 'PUT', code: '400' }), 1, 'the rejected add');
  t.is(delta(m3, m4, 'spp_sppctl_requests_total', PUT_CLASSIFIER), 2, 'the repair: del the stale entry, add');
  t.is(delta(m3, m4, 'spp_sppctl_requests_total', { method: 'GET', path: '/v1/vfs/{id}', code: '200' }), 1, 'the re-read');
  t.is(delta(m3, m4, 'spp_reconcile_total', { kind: 'port', result: 'success' }), 1, 'one run, repaired inside');
  t.is(delta(m3, m4, 'spp_port_convergence_seconds', { action: 'plug' }), 1);

  // series stay bounded: no label carries a port id or a MAC
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const p of [FLAT, VLAN, REJECTED]) {
    t.false(text.includes(p.portId));
    t.false(text.toLowerCase().includes(p.mac));
  }
});

test('the convergence histogram counts each plug once, however many times the port is re-put and resynced', async (t) => {
  const s = await startSystem(t, { settings: { ops: '127.0.0.1:0', reassert: '0.01,0.05,0.1', resyncInterval: '0.2' } });
  const url = await opsUrl(s.agent);
  await nicsReady(s);
  const ports = [FLAT, VLAN, REJECTED];
  for (const p of ports) await pyBind(s.client, s.host, p);
  for (const p of ports) await waitUp(s.client, s.host, p.portId);
  // several resyncs (every 0.2 s) and every re-put have happened
  await sleep(1200);
  const m = await scrape(url);
  t.is(sample(m, 'spp_port_convergence_seconds', { action: 'plug' }), 3);
  t.true(sample(m, 'spp_reconcile_total', { kind: 'nic', result: 'success' }) >= 6, 'resyncs ran');
  t.true(sample(m, 'spp_etcd_writes_total', { op: 'port_status' }) > 3, 're-puts ran');
  const sum = sample(m, 'spp_port_convergence_seconds_sum', { action: 'plug' });
  t.true(sum > 0 && sum < 30, `lag sum ${sum} s`);
});

test('/readyz: 503 with the reason before the NICs are ready, during an etcd outage and while standing by; 200 otherwise', async (t) => {
  const s = await startSystem(t, { agent: false });
  // every spp-ctl request takes 150 ms: the NIC builds take a while
  s.sim.emulator.setLatency(150);
  s.startAgent({ ops: '127.0.0.1:0' });
  const url = await opsUrl(s.agent);
  const reasons = new Set<string>();
  await until(
    async () => {
      const r = await readyz(url);
      if (r.status === 503) reasons.add(r.body.trim());
      return r.status === 200;
    },
    '/readyz 200',
    20_000,
  );
  t.true(
    [...reasons].some((r) => /^not ready: spp_vf \d is (waitingForVf|building)/.test(r)),
    [...reasons].join(' | '),
  );
  t.true(s.agent!.controller.view().nics.every((n) => n.state === 'ready'));
  t.is((await fetch(`${url}/livez`)).status, 200);
  s.sim.emulator.setLatency(0);

  // a second agent for the host stands by for the lock
  const second = startAgent(s.settings({ ops: '127.0.0.1:0' }), {
    logger: createLogger({ level: 'error', format: 'json' }),
    sppctl: new SppCtlClient(httpTransport(s.sim.url)),
  });
  t.teardown(() => second.stop());
  const secondUrl = await opsUrl(second);
  const standby = await until(async () => {
    const r = await readyz(secondUrl);
    return r.body.includes('standing by') && r;
  }, 'the standby says so');
  t.is(standby.status, 503);
  t.is(standby.body.trim(), `not ready: standing by: another agent holds the host lock agent-lock/${s.host}`);
  t.is(sample(await scrape(secondUrl), 'spp_host_lock_held'), 0);
  t.is(sample(await scrape(secondUrl), 'spp_agent_ready'), 0);
  t.is((await fetch(`${secondUrl}/livez`)).status, 200, 'a standby is alive');
  await second.stop();

  // etcd outage
  await s.etcd.stopMember('m0');
  const outage = await until(
    async () => {
      const r = await readyz(url);
      return r.status === 503 && r;
    },
    '/readyz 503 during the outage',
    20_000,
  );
  t.regex(outage.body, /^not ready: etcd unreachable: /);
  t.is((await fetch(`${url}/livez`)).status, 200, 'alive while etcd is away');
  await s.etcd.startMember('m0');
  await until(async () => (await readyz(url)).status === 200, '/readyz 200 after the outage', 30_000);
  t.is(sample(await scrape(url), 'spp_agent_ready'), 1);
  t.true(sample(await scrape(url), 'spp_etcd_watch_restarts_total') >= 1);

  // the ops endpoint is read-only
  t.is((await fetch(`${url}/metrics`, { method: 'POST' })).status, 405);
});
