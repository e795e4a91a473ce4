/**
 * /metrics of a real agent running a tap flow (TaaS) against a real etcd and
 * the emulator's spp_vf and spp_mirror: the tap writes and the mirror's
 * requests are counted at the agent's seams.
 */
import test from 'ava';
import { createTap, deleteTap } from '../src/driver';
import { type Family, opsUrl, sample, scrape } from './helpers/ops';
import { startTapSystem, tapPorts } from './helpers/tap-system';

const PORTS = tapPorts('a0000000');
const { service: SERVICE, source: SOURCE } = PORTS;
const MIRROR_PORTS = { method: 'PUT', path: '/v1/mirrors/{id}/components/{name}/ports', code: '204' };
const VF_PORTS = { method: 'PUT', path: '/v1/vfs/{id}/components/{name}/ports', code: '204' };

const delta = (a: Family[], b: Family[], name: string, labels: Record<string, string> = {}): number => sample(b, name, labels) - sample(a, name, labels);

test("a tap flow's create and delete move the tap writes and the mirror's request counters by exactly its own", async (t) => {
  const s = await startTapSystem(t, PORTS, { ops: '127.0.0.1:0', reassert: 'off' });
  const url = await opsUrl(s.agent);
  await s.agent!.controller.idle();
  const m0 = await scrape(url);
  t.is(sample(m0, 'spp_etcd_writes_total', { op: 'tap_status' }), 0);

  const tap = { host: s.host, tapFlowId: 'tf-metrics', wait: true, timeoutMs: 15_000 };
  t.is((await createTap(s.client, { ...tap, servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN' })).outcome, 'up');
  await s.agent!.controller.idle();
  const m1 = await scrape(url);
  t.is(delta(m0, m1, 'spp_etcd_writes_total', { op: 'tap_status', result: 'written' }), 1, 'tap_status = up, once');
  t.is(delta(m0, m1, 'spp_sppctl_requests_total', MIRROR_PORTS), 3, "IN's three mirror steps");
  t.is(delta(m0, m1, 'spp_sppctl_requests_total', VF_PORTS), 3, "IN's three vf steps");
  t.is(delta(m0, m1, 'spp_tap_errors_reported_total'), 0);

  t.is((await deleteTap(s.client, tap)).outcome, 'deleted');
  await s.agent!.controller.idle();
  const m2 = await scrape(url);
  t.is(delta(m1, m2, 'spp_etcd_writes_total', { op: 'tap_cleanup', result: 'written' }), 1);
  t.is(delta(m1, m2, 'spp_etcd_writes_total', { op: 'tap_status' }), 0);
  t.is(delta(m1, m2, 'spp_sppctl_requests_total', MIRROR_PORTS), 3);

  // a second IN flow on the same source port: refused with tap_status = error, counted once
  await createTap(s.client, { ...tap, tapFlowId: 'tf-a', servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'IN' });
  const second = await createTap(s.client, {
    ...tap,
    tapFlowId: 'tf-b',
    servicePort: SERVICE.portId,
    sourcePort: SOURCE.portId,
    direction: 'IN',
  }).catch((err: Error) => err);
  t.truthy(second);
  await s.agent!.controller.idle();
  const m3 = await scrape(url);
  t.is(delta(m2, m3, 'spp_tap_errors_reported_total'), 1, String((second as { message?: string }).message ?? second));
  // every tap_status the agent wrote is an etcd write counted: tf-a's up and tf-b's error
  t.is(delta(m2, m3, 'spp_etcd_writes_total', { op: 'tap_status', result: 'written' }), 2);
});

test('a real agent feeds spp_tap_flows, spp_tap_runs_total and spp_mirror_up through the observer hooks', async (t) => {
  const s = await startTapSystem(t, PORTS, { ops: '127.0.0.1:0', reassert: 'off' });
  const url = await opsUrl(s.agent);
  t.is(sample(await scrape(url), 'spp_mirror_up'), 1);
  const tap = { host: s.host, tapFlowId: 'tf-states', wait: true, timeoutMs: 15_000 };
  t.is((await createTap(s.client, { ...tap, servicePort: SERVICE.portId, sourcePort: SOURCE.portId, direction: 'BOTH' })).outcome, 'up');
  await s.agent!.controller.idle();
  const m1 = await scrape(url);
  t.is(sample(m1, 'spp_tap_flows', { state: 'up' }), 1);
  t.is(sample(m1, 'spp_tap_flows'), 1, 'one flow in all');
  t.is(sample(m1, 'spp_tap_runs_total', { action: 'plug', result: 'success' }), 1);
  t.is((await deleteTap(s.client, tap)).outcome, 'deleted');
  await s.agent!.controller.idle();
  const m2 = await scrape(url);
  t.is(sample(m2, 'spp_tap_runs_total', { action: 'unplug', result: 'success' }), 1);
  t.is(sample(m2, 'spp_tap_flows'), 0, 'the flow is forgotten once its keys are gone');
});
