/**
 * spp-ctl failing (500s) or too slow (every request past the client's
 * timeout): the agent retries with capped backoff, sends no request storm
 * (the count over a window stays under a bound derived from the backoff
 * schedule), and converges once the faults stop.
 */
import test from 'ava';
import { backoffMs } from '../src/protocol/retry';
import { type PyPort, pyBind, waitUp } from './helpers/neutron';
import { nicsReady, type System, startSystem } from './helpers/system';
import { sleep } from './helpers/wait';

/** The daemon's schedules (src/daemon/daemon.ts, machines/nic.ts). */
const PORT_BACKOFF = { base: 500, max: 30_000 };
const NIC_BACKOFF = { base: 250, max: 10_000 };

/** How many attempts a capped exponential backoff starts within `windowMs` (the first at 0). */
function attemptsWithin(windowMs: number, s: { base: number; max: number }): number {
  let at = 0;
  let n = 0;
  while (at <= windowMs) {
    n += 1;
    at += backoffMs(n, s.base, s.max);
  }
  return n;
}

const PORTS: PyPort[] = [
  { portId: 'f0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0f:00' },
  { portId: 'f0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0f:02', vlan: 42 },
];

function countSince(s: System, seq: number): { all: number; mutating: number } {
  const entries = s.sim.emulator.log().filter((e) => e.seq > seq);
  return { all: entries.length, mutating: entries.filter((e) => e.method !== 'GET').length };
}

const lastSeq = (s: System): number => s.sim.emulator.log().at(-1)?.seq ?? 0;

function duplicates(values: readonly string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

test('classifier commands answered 500: capped retries, no storm, converges once spp-ctl heals', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  s.sim.emulator.addFault({ action: 'error', path: 'classifier_table', method: 'PUT', count: 1_000_000 });
  const from = lastSeq(s);
  const windowMs = 5000;
  for (const p of PORTS) await pyBind(s.client, s.host, p);
  await sleep(windowMs);
  const seen = countSince(s, from);

  // Per port attempt: the failing command(s) before it (VLAN settings, at most 4, only the first time
  // they fail is the classifier), the classifier PUT, and the vf's re-read (processes + status) plus the
  // plan's own status read.
  const attempts = attemptsWithin(windowMs, PORT_BACKOFF);
  const mutatingBound = PORTS.length * (attempts + 4);
  const bound = PORTS.length * (attempts * 4 + 4);
  t.log(
    `${seen.all} requests (${seen.mutating} mutating) in ${windowMs} ms with spp-ctl failing; bound ${bound} (${mutatingBound}) from ${attempts} attempts per port`,
  );
  t.true(seen.mutating >= PORTS.length * 2, 'the agent does retry');
  t.true(seen.mutating <= mutatingBound, `mutating requests ${seen.mutating} <= ${mutatingBound}`);
  t.true(seen.all <= bound, `requests ${seen.all} <= ${bound}`);

  s.sim.emulator.clearFaults();
  for (const p of PORTS) await waitUp(s.client, s.host, p.portId, 40_000);
  const tables = (await s.vfStatuses()).map((vf) => vf.classifier_table.map((e) => `${e.port}/${e.value}`));
  t.deepEqual(tables, [['ring:0/FA:16:3E:00:0F:00'], ['ring:4/42/FA:16:3E:00:0F:02']]);
});

test('spp-ctl slower than the client timeout: requests time out (some applied anyway), capped retries, converges when it is fast again', async (t) => {
  const s = await startSystem(t, { settings: { sppCtlTimeout: '0.2', resyncInterval: '30' } });
  await nicsReady(s);
  s.sim.emulator.setLatency(400);
  const from = lastSeq(s);
  const windowMs = 5000;
  for (const p of PORTS) await pyBind(s.client, s.host, p);
  await sleep(windowMs);
  const seen = countSince(s, from);
  // A timed-out command makes the NIC re-read the vf, which times out too: the NIC then backs off on
  // its own schedule (per vf: processes + status per attempt) while the ports back off on theirs.
  const portAttempts = attemptsWithin(windowMs, PORT_BACKOFF);
  const nicAttempts = attemptsWithin(windowMs, NIC_BACKOFF);
  const bound = PORTS.length * portAttempts * 2 + s.configuration.length * nicAttempts * 2;
  t.log(`${seen.all} requests (${seen.mutating} mutating) in ${windowMs} ms with 400 ms latency and a 200 ms timeout; bound ${bound}`);
  t.true(seen.all <= bound, `requests ${seen.all} <= ${bound}`);
  t.true(seen.all >= 4, 'the agent does retry');

  s.sim.emulator.setLatency(0);
  for (const p of PORTS) await waitUp(s.client, s.host, p.portId, 40_000);
  const vfs = await s.vfStatuses();
  const tables = vfs.map((vf) => vf.classifier_table.map((e) => `${e.port}/${e.value}`));
  t.deepEqual(tables, [['ring:0/FA:16:3E:00:0F:00'], ['ring:4/42/FA:16:3E:00:0F:02']]);
  for (const vf of vfs) {
    for (const c of vf.components) {
      if (!('name' in c)) continue;
      t.deepEqual(duplicates(c.rx_port.map((p) => p.port)), [], `vf ${vf['client-id']} ${c.name} rx`);
      t.deepEqual(duplicates(c.tx_port.map((p) => p.port)), [], `vf ${vf['client-id']} ${c.name} tx`);
    }
  }
});
