/**
 * The ops endpoint's metric families as a new dashboard sees them on the
 * first scrape: build and host info, every state of the bounded label sets
 * at 0, every labelled counter present, etcd and spp-ctl up gauges.
 */
import test from 'ava';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { nicMachine } from '../machines/nic';
import { portMachine } from '../machines/port';
import { leafStateNames } from '../machines/state-name';
import { tapMachine } from '../machines/tap';
import { AgentMetrics } from '../src/ops/metrics';
import { VERSION } from '../src/version';
import { type Family, sample } from './helpers/ops';

async function families(m: AgentMetrics): Promise<Family[]> {
  return parsePrometheusTextFormat(await m.text()) as Family[];
}

function labelsOf(fs: readonly Family[], name: string, label: string): string[] {
  return (fs.find((f) => f.name === name)?.metrics ?? []).map((m) => m.labels?.[label] ?? '').sort();
}

test('leafStateNames names every state a port or NIC can rest in, as stateName does', (t) => {
  t.deepEqual(leafStateNames(nicMachine.root), ['waitingForVf', 'building', 'retryWait', 'ready', 'stopped']);
  const ports = leafStateNames(portMachine.root);
  for (const s of [
    'idle',
    'evaluating',
    'plugging',
    'plugged.reasserting',
    'plugged.steady',
    'unplugging',
    'removed',
    'backoff',
    'waitingForNic',
    'failed.reported',
  ])
    t.true(ports.includes(s), s);
  t.false(ports.includes('plugged'), 'a compound state is named by its children');
});

test('the first scrape: build and host info, zero-filled state gauges, every labelled counter at 0, etcd and spp-ctl down', async (t) => {
  const m = new AgentMetrics({ processMetrics: false });
  const before = await families(m);
  t.is(sample(before, 'spp_build_info', { version: VERSION, node_version: process.version }), 1);
  t.deepEqual(before.find((f) => f.name === 'spp_agent_info')?.metrics ?? [], [], 'no host before the daemon binds');
  m.bind({ host: 'compute-1', ready: () => false, lockHeld: () => false, livenessHeld: () => false });
  const fs = await families(m);
  t.is(sample(fs, 'spp_agent_info', { host: 'compute-1' }), 1);
  t.deepEqual(labelsOf(fs, 'spp_ports', 'state'), [...leafStateNames(portMachine.root)].sort());
  t.deepEqual(labelsOf(fs, 'spp_nics', 'state'), [...leafStateNames(nicMachine.root)].sort());
  t.is(sample(fs, 'spp_ports'), 0);
  const reconciles = fs.find((f) => f.name === 'spp_reconcile_total')!.metrics;
  t.deepEqual(reconciles.map((s) => `${s.labels?.kind}/${s.labels?.result}=${s.value}`).sort(), [
    'nic/error=0',
    'nic/requeue=0',
    'nic/success=0',
    'port/error=0',
    'port/requeue=0',
    'port/success=0',
  ]);
  t.is(labelsOf(fs, 'spp_etcd_writes_total', 'result').length, 12, 'port_status, unplug_cleanup, tap_status and tap_cleanup, by each result');
  t.deepEqual(labelsOf(fs, 'spp_tap_flows', 'state'), [...leafStateNames(tapMachine.root)].sort());
  t.is(sample(fs, 'spp_tap_flows'), 0);
  t.is(fs.find((f) => f.name === 'spp_tap_runs_total')!.metrics.length, 6, 'plug and unplug, by each result');
  t.is(sample(fs, 'spp_tap_runs_total'), 0);
  t.is(sample(fs, 'spp_tap_errors_reported_total'), 0);
  t.is(sample(fs, 'spp_mirror_up'), 0);
  t.deepEqual(labelsOf(fs, 'spp_etcd_relists_total', 'reason'), ['cancelled', 'compacted', 'disconnected', 'error', 'other', 'refused', 'start']);
  t.is(labelsOf(fs, 'spp_etcd_watch_restarts_total', 'reason').length, 7);
  t.is(fs.find((f) => f.name === 'spp_port_convergence_seconds')?.type, 'HISTOGRAM');
  t.is(sample(fs, 'spp_etcd_up'), 0);
  t.is(sample(fs, 'spp_sppctl_up'), 0);
});

test('spp_ports counts ports by state beside the zeros; spp_etcd_up and spp_sppctl_up follow the last word', async (t) => {
  const m = new AgentMetrics({ processMetrics: false });
  m.portState('p1', 'plugged.steady', 'plugging');
  m.portState('p2', 'plugged.steady', 'plugging');
  m.portState('p3', 'backoff', 'plugging');
  let fs = await families(m);
  t.is(sample(fs, 'spp_ports', { state: 'plugged.steady' }), 2);
  t.is(sample(fs, 'spp_ports', { state: 'backoff' }), 1);
  t.is(sample(fs, 'spp_ports', { state: 'idle' }), 0);
  t.is(sample(fs, 'spp_reconcile_total', { kind: 'port', result: 'success' }), 2);

  m.listWatchEvent({ type: 'reset', revision: 5, reason: 'start', entries: [] });
  t.is(sample(await families(m), 'spp_etcd_up'), 1);
  m.listWatchEvent({ type: 'connection', connected: false, reason: 'etcd watch disconnected: gone' });
  fs = await families(m);
  t.is(sample(fs, 'spp_etcd_up'), 0);
  t.is(sample(fs, 'spp_etcd_watch_restarts_total', { reason: 'disconnected' }), 1);
  m.listWatchEvent({ type: 'connection', connected: true, reason: 'etcd watch connected' });
  t.is(sample(await families(m), 'spp_etcd_up'), 1);

  m.sppctlRequest('GET', '/v1/processes', '200', 2);
  t.is(sample(await families(m), 'spp_sppctl_up'), 1);
  m.sppctlRequest('GET', '/v1/vfs/1', 'unreachable', 2);
  t.is(sample(await families(m), 'spp_sppctl_up'), 0);
  m.sppctlRequest('PUT', '/v1/vfs/1/classifier_table', '500', 2);
  t.is(sample(await families(m), 'spp_sppctl_up'), 1, 'an error answer is an answer');
  m.sppctlRequest('GET', '/v1/vfs/1', 'timeout', 10_000);
  t.is(sample(await families(m), 'spp_sppctl_up'), 0);
});

test('spp_tap_flows counts flows by tap machine state; spp_tap_runs_total counts each run where it ends; spp_mirror_up follows the mirror machine', async (t) => {
  const m = new AgentMetrics({ processMetrics: false });
  const states = leafStateNames(tapMachine.root);
  for (const s of ['evaluating', 'plugging', 'up', 'unplugging', 'removed', 'backoff', 'waiting', 'failed.reported']) t.true(states.includes(s), s);
  m.tapState('a', 'evaluating', '');
  m.tapState('a', 'plugging', 'evaluating');
  m.tapState('a', 'up', 'plugging');
  m.tapState('b', 'plugging', 'evaluating');
  m.tapState('b', 'backoff', 'plugging');
  m.tapState('c', 'unplugging', 'evaluating');
  m.tapState('c', 'removed', 'unplugging');
  m.tapState('d', 'plugging', 'evaluating');
  m.tapState('d', 'evaluating', 'plugging');
  let fs = await families(m);
  t.is(sample(fs, 'spp_tap_flows', { state: 'up' }), 1);
  t.is(sample(fs, 'spp_tap_flows', { state: 'backoff' }), 1);
  t.is(sample(fs, 'spp_tap_flows', { state: 'removed' }), 1);
  t.is(sample(fs, 'spp_tap_flows', { state: 'plugging' }), 0);
  t.is(sample(fs, 'spp_tap_runs_total', { action: 'plug', result: 'success' }), 1);
  t.is(sample(fs, 'spp_tap_runs_total', { action: 'plug', result: 'error' }), 1);
  t.is(sample(fs, 'spp_tap_runs_total', { action: 'plug', result: 'requeue' }), 1);
  t.is(sample(fs, 'spp_tap_runs_total', { action: 'unplug', result: 'success' }), 1);
  t.is(sample(fs, 'spp_tap_runs_total', { action: 'unplug', result: 'error' }), 0);
  m.tapForgotten('c');
  t.is(sample(await families(m), 'spp_tap_flows', { state: 'removed' }), 0, 'a forgotten flow is not counted');

  m.mirrorState(3, 'building');
  t.is(sample(await families(m), 'spp_mirror_up'), 0);
  m.mirrorState(3, 'ready');
  t.is(sample(await families(m), 'spp_mirror_up'), 1);
  m.mirrorState(3, 'retryWait');
  t.is(sample(await families(m), 'spp_mirror_up'), 0);
  m.mirrorState(3, 'ready');
  m.mirrorState(3, undefined);
  fs = await families(m);
  t.is(sample(fs, 'spp_mirror_up'), 0, 'no mirror configured any more');

  m.tapStatusWritten('up');
  t.is(sample(await families(m), 'spp_tap_errors_reported_total'), 0);
  m.tapStatusWritten('error: a second IN flow on the source port');
  t.is(sample(await families(m), 'spp_tap_errors_reported_total'), 1);
});
