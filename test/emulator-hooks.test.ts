/**
 * The emulator's /_sim/ hooks and the observed failure modes that need more
 * than one request: request log, vf restart, late vfs, latency, injected
 * faults, the hang on the master lcore and the 4096-byte status limit.
 */
import test from 'ava';
import type { NicConfig } from '../src/protocol/codecs';
import { hostLayout } from '../src/protocol/layout';
import { createEmulator } from '../src/sppctl/emulator';
import { attach, call, classify, SEED_LAYOUT, start, steps, useSim } from './helpers/emulator';
import { sleep, until } from './helpers/wait';

test('GET /_sim/log lists every request in order with its answer; DELETE clears it', async (t) => {
  const sim = await useSim(t);
  await call(sim.url, 'GET', '/v1/processes');
  await call(sim.url, ...(start('f', 2, 'forward').slice(0, 3) as [string, string, unknown]));
  await call(sim.url, 'GET', '/v1/vfs/7');
  const log = JSON.parse((await call(sim.url, 'GET', '/_sim/log')).body) as Record<string, unknown>[];
  t.deepEqual(
    log.map((e) => [e.method, e.path, e.body, e.status, e.response]),
    [
      ['GET', '/v1/processes', null, 200, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]'],
      ['POST', '/v1/vfs/1/components', '{"name":"f","core":2,"type":"forward"}', 204, ''],
      ['GET', '/v1/vfs/7', null, 404, 'sec_id 7 not found.'],
    ],
  );
  t.is((await call(sim.url, 'DELETE', '/_sim/log')).status, 204);
  t.deepEqual(JSON.parse((await call(sim.url, 'GET', '/_sim/log')).body), []);
});

test('POST /_sim/vfs/1/restart: components and classifier table are gone, phy ports stay', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [...SEED_LAYOUT, classify('add', '12:ab:34:cd:56:ef', 'ring:0')]);
  t.is((await call(sim.url, 'POST', '/_sim/vfs/1/restart')).status, 204);
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as Record<string, unknown>;
  t.deepEqual(s, { 'client-id': 1, ports: ['phy:0'], components: [2, 3, 4, 5, 6, 7, 8].map((core) => ({ core, type: 'unuse' })), classifier_table: [] });
  // the vf is still listed, and the layout can be built again
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]');
  await steps(t, sim.url, SEED_LAYOUT);
  t.is((await call(sim.url, 'POST', '/_sim/vfs/9/restart')).status, 404);
});

test('restart with downMs: the vf answers 500 until it is back', async (t) => {
  const sim = await useSim(t);
  await call(sim.url, 'POST', '/_sim/vfs/1/restart', { downMs: 60_000 });
  t.deepEqual(await call(sim.url, 'GET', '/v1/vfs/1').then((a) => [a.status, a.body]), [500, 'Internal Server Error']);
  await call(sim.url, 'POST', '/_sim/vfs/1/restart', { downMs: 0 });
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 200);
});

test('a vf that connects late: absent from /v1/processes and 404 until it appears', async (t) => {
  const sim = await useSim(t, {
    vfs: [
      { secId: 1, coreMask: '0x1fe' },
      { secId: 2, coreMask: '0xfe00', appearAfterMs: 1500 },
    ],
  });
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]');
  t.deepEqual(await call(sim.url, 'GET', '/v1/vfs/2').then((a) => [a.status, a.body]), [404, 'sec_id 2 not found.']);
  for (let i = 0; i < 400 && (await call(sim.url, 'GET', '/v1/vfs/2')).status === 404; i++) await sleep(20);
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}, {"type": "vf", "client-id": 2}]');
  t.is((await call(sim.url, 'GET', '/v1/vfs/2')).status, 200);
});

test('POST /_sim/vfs/1/appear-after: the vf disappears and comes back (keeping its state)', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [start('f', 2, 'forward')]);
  t.is((await call(sim.url, 'POST', '/_sim/vfs/1/appear-after', {})).status, 204);
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}]');
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 404);
  t.is((await call(sim.url, 'POST', '/_sim/vfs/1/appear-after', { ms: 0 })).status, 204);
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: { name?: string }[] };
  t.is(s.components[0]!.name, 'f');
});

test('PUT /_sim/latency delays every request (a client with a shorter timeout gives up)', async (t) => {
  const sim = await useSim(t);
  t.is((await call(sim.url, 'PUT', '/_sim/latency', { ms: 2000 })).status, 204);
  t.is(await rejection(fetch(`${sim.url}/v1/processes`, { signal: AbortSignal.timeout(100) })), 'TimeoutError');
  t.is((await call(sim.url, 'PUT', '/_sim/latency', { ms: 0 })).status, 204);
  t.is((await call(sim.url, 'GET', '/v1/processes')).status, 200);
  t.deepEqual(await call(sim.url, 'PUT', '/_sim/latency', { ms: -1 }).then((a) => [a.status, a.body]), [400, 'ms must be a number >= 0, got -1']);
});

test('PUT /_sim/poll-interval: from then on spp_vf answers at its poll ticks; 0 answers at once; ms is required', async (t) => {
  const sim = await useSim(t);
  t.is((await call(sim.url, 'PUT', '/_sim/poll-interval', {})).status, 400);
  t.is((await call(sim.url, 'PUT', '/_sim/poll-interval', { ms: 300 })).status, 204);
  await call(sim.url, 'GET', '/v1/vfs/1'); // answered at a tick: the next request waits a whole period
  let began = Date.now();
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 200);
  t.true(Date.now() - began >= 200, `paced: ${Date.now() - began} ms`);
  t.is((await call(sim.url, 'PUT', '/_sim/poll-interval', { ms: 0 })).status, 204);
  began = Date.now();
  await call(sim.url, 'GET', '/v1/vfs/1');
  t.true(Date.now() - began < 200, `at once: ${Date.now() - began} ms`);
});

test('POST /_sim/faults: the next N matching requests answer 500, others are untouched', async (t) => {
  const sim = await useSim(t);
  t.is((await call(sim.url, 'POST', '/_sim/faults', { count: 2, path: '^/v1/vfs/1$' })).status, 204);
  t.is((await call(sim.url, 'GET', '/v1/processes')).status, 200);
  t.deepEqual(await call(sim.url, 'GET', '/v1/vfs/1').then((a) => [a.status, a.body, a.contentType]), [500, 'Internal Server Error', 'text/plain']);
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 500);
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 200);
  t.deepEqual(await call(sim.url, 'POST', '/_sim/faults', { action: 'explode' }).then((a) => a.status), 400);
});

test('POST /_sim/faults with action drop closes the connection without an answer', async (t) => {
  const sim = await useSim(t);
  await call(sim.url, 'POST', '/_sim/faults', { action: 'drop', method: 'POST' });
  await t.throwsAsync(call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'f', core: 2, type: 'forward' }));
  // "before": the command never reached the vf
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: { type: string }[] };
  t.is(s.components[0]!.type, 'unuse');
});

test('a fault "after" loses the answer of a command that was applied', async (t) => {
  const sim = await useSim(t);
  await call(sim.url, 'POST', '/_sim/faults', { when: 'after', path: '/components$' });
  t.is((await call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'f', core: 2, type: 'forward' })).status, 500);
  t.deepEqual(
    await call(sim.url, 'POST', '/v1/vfs/1/components', { name: 'f', core: 2, type: 'forward' }).then((a) => a.body),
    'command error: bad value(component name)',
  );
});

test('a component on the master lcore hangs the vf: no answer, later requests to it hang too, until restart', async (t) => {
  const sim = await useSim(t);
  const hung = fetch(`${sim.url}/v1/vfs/1/components`, { method: 'POST', body: JSON.stringify({ name: 'm', core: 1, type: 'forward' }) });
  await until(() => sim.emulator.log().length === 1, 'the first request in the log', 1000, 5);
  const queued = fetch(`${sim.url}/v1/vfs/1`);
  await until(() => sim.emulator.log().length === 2, 'the second request in the log', 1000, 5);
  t.is(await rejection(fetch(`${sim.url}/v1/vfs/1`, { signal: AbortSignal.timeout(200) })), 'TimeoutError');
  t.deepEqual(
    sim.emulator.log().map((e) => e.status),
    [null, null, null],
  );
  // spp-ctl itself still answers
  t.is((await call(sim.url, 'GET', '/v1/processes')).status, 200);
  await call(sim.url, 'POST', '/_sim/vfs/1/restart');
  t.is((await hung).status, 500);
  t.is((await queued).status, 500);
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 200);
});

test('in process: handle() needs no socket and gives the same answers', async (t) => {
  const emu = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }] });
  t.teardown(() => emu.close());
  t.deepEqual(await emu.handle({ method: 'GET', path: '/v1/vfs/2' }), { status: 404, contentType: 'text/plain', body: 'sec_id 2 not found.' });
  t.deepEqual(await emu.handle({ method: 'POST', path: '/v1/vfs/1/components', body: '{"name": "f", "core": 2, "type": "forward"}' }), {
    status: 204,
    body: '',
  });
  // concurrent commands to one vf are serialised in arrival order
  const [a, b] = await Promise.all([
    emu.handle({ method: 'POST', path: '/v1/vfs/1/components', body: '{"name": "g", "core": 3, "type": "forward"}' }),
    emu.handle({ method: 'PUT', path: '/v1/vfs/1/components/g/ports', body: '{"action": "attach", "port": "ring:0", "dir": "rx"}' }),
  ]);
  t.deepEqual([a.status, b.status], [204, 204]);
});

test('pollIntervalMs: commands are still answered, one vf at a time', async (t) => {
  const emu = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], pollIntervalMs: 20 });
  t.teardown(() => emu.close());
  const results = await Promise.all(
    ['f', 'g', 'h'].map((name, i) =>
      emu.handle({ method: 'POST', path: '/v1/vfs/1/components', body: JSON.stringify({ name, core: 2 + i, type: 'forward' }) }),
    ),
  );
  t.deepEqual(
    results.map((r) => r.status),
    [204, 204, 204],
  );
  const s = JSON.parse((await emu.handle({ method: 'GET', path: '/v1/vfs/1' })).body) as { components: { name?: string }[] };
  t.deepEqual(
    s.components.slice(0, 3).map((c) => c.name),
    ['f', 'g', 'h'],
  );
});

/** The name of the error a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return (err as Error).name;
  }
}

function nicWith(vhosts: number): NicConfig {
  const mask = `0x${((1n << BigInt(2 * vhosts + 4)) - 2n).toString(16)}`;
  return { pci_address: '00:04.0', physical_network: 'phys1', num_vhost: vhosts, core_mask: mask };
}

const fromMappings = (...nics: NicConfig[]): Record<string, unknown> => ({ vfs: undefined, phyPorts: undefined, rings: undefined, mappings: nics });

async function buildLayout(t: import('ava').ExecutionContext, url: string, nic: NicConfig): Promise<void> {
  const [layout] = hostLayout([nic]);
  await steps(t, url, [
    ...layout!.components.map((c) => start(c.name, c.core, c.type)),
    ...layout!.components.flatMap((c) => [...c.rx.map((p) => attach(c.name, p, 'rx')), ...c.tx.map((p) => attach(c.name, p, 'tx'))]),
    ...layout!.vhostIds.map((v) => classify('add', `fa:16:3e:00:00:${(16 + v).toString(16)}`, `ring:${2 * v}`)),
  ]);
}

test('4096-byte limit: a status of 5 vhosts is readable, 6 vhosts give 500 (observed) and 200 (lenient)', async (t) => {
  const five = await useSim(t, { ...fromMappings(nicWith(5)) });
  await buildLayout(t, five.url, nicWith(5));
  t.is((await call(five.url, 'GET', '/v1/vfs/1')).status, 200);
  t.true(five.emulator.vf(1).reply('status')!.length < 4096);

  const six = await useSim(t, { ...fromMappings(nicWith(6)) });
  await buildLayout(t, six.url, nicWith(6));
  t.true(six.emulator.vf(1).reply('status')!.length >= 4096);
  t.deepEqual(await call(six.url, 'GET', '/v1/vfs/1').then((a) => [a.status, a.body]), [500, 'Internal Server Error']);

  const lenient = await useSim(t, { ...fromMappings(nicWith(6)), lenient: true });
  await buildLayout(t, lenient.url, nicWith(6));
  const a = await call(lenient.url, 'GET', '/v1/vfs/1');
  t.is(a.status, 200);
  t.is((JSON.parse(a.body) as { classifier_table: unknown[] }).classifier_table.length, 6);
});

test('vfs derived from mappings: one per NIC, client id = index + 1, rings = 2 x vhosts', async (t) => {
  const sim = await useSim(t, {
    vfs: undefined,
    phyPorts: undefined,
    rings: undefined,
    mappings: [
      { pci_address: '00:04.0', physical_network: 'phys1', num_vhost: 2, core_mask: '0xfe' },
      { pci_address: '00:05.0', physical_network: 'phys2', num_vhost: 2, core_mask: '0xfc02' },
    ],
  });
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}, {"type": "vf", "client-id": 2}]');
  const s2 = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/2')).body) as { ports: string[]; components: { core: number }[] };
  t.deepEqual(s2.ports, ['phy:0', 'phy:1']);
  t.deepEqual(
    s2.components.map((c) => c.core),
    [10, 11, 12, 13, 14, 15],
  );
  await steps(t, sim.url, [start('f', 2, 'forward'), attach('f', 'ring:7', 'rx')]);
  t.deepEqual(await call(sim.url, ...(attach('f', 'ring:8', 'tx').slice(0, 3) as [string, string, unknown])).then((a) => a.body), 'command error: error occur');
});

test('a hung vf does not block another vf; processes is empty without primary and vfs', async (t) => {
  const emu = createEmulator({
    vfs: [
      { secId: 1, coreMask: '0x1fe' },
      { secId: 2, coreMask: '0xfe00' },
    ],
  });
  t.teardown(() => emu.close());
  let answered = false;
  const hung = emu.handle({ method: 'POST', path: '/v1/vfs/1/components', body: '{"name": "m", "core": 1, "type": "forward"}' }).then((r) => {
    answered = true;
    return r;
  });
  t.is((await emu.handle({ method: 'GET', path: '/v1/vfs/2' })).status, 200);
  t.false(answered);
  t.true(emu.vf(1).isHung);
  emu.restartVf(1);
  t.deepEqual(await hung, { status: 500, contentType: 'text/plain', body: 'Internal Server Error' });

  const empty = createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe', appearAfterMs: 60_000 }], primary: false });
  t.teardown(() => empty.close());
  t.deepEqual(await empty.handle({ method: 'GET', path: '/v1/processes' }), { status: 200, contentType: 'application/json', body: '[]' });
});

test('overflowDesync: after a 4096+ byte status, replies to that vf are read off by one until restart', async (t) => {
  const sim = await useSim(t, { ...fromMappings(nicWith(6)), overflowDesync: true });
  await buildLayout(t, sim.url, nicWith(6));
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 500);
  // the unread rest of the status is not JSON
  t.is((await call(sim.url, 'DELETE', '/v1/vfs/1/components/nothing')).status, 500);
  // this command fails in spp_vf, but spp-ctl reads the success of the previous one
  t.is((await call(sim.url, ...(start('x', 0, 'forward').slice(0, 3) as [string, string, unknown]))).status, 204);
  // and the status read gets that error reply
  t.deepEqual(await call(sim.url, 'GET', '/v1/vfs/1').then((a) => [a.status, a.body]), [400, 'command error: error occur']);
  await call(sim.url, 'POST', '/_sim/vfs/1/restart');
  t.is((await call(sim.url, 'GET', '/v1/vfs/1')).status, 200);
  t.deepEqual(await call(sim.url, ...(start('x', 0, 'forward').slice(0, 3) as [string, string, unknown])).then((a) => [a.status, a.body]), [
    400,
    'command error: error occur',
  ]);
});
