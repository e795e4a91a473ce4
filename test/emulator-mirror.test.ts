/**
 * spp_mirror behind spp-ctl (upstream-final.md section 2), over real HTTP:
 * the process list, the status shape, type `mirror` only, 1 rx / 2 tx with
 * the `error occur` quirks, per-process port checks, the ignored vlan key,
 * 404s, no classifier endpoint, and the fault hooks shared with vfs.
 */
import test from 'ava';
import { createEmulator } from '../src/sppctl/emulator';
import { type Answer, attach, call, detach, pyDumps, SEED_LAYOUT, type Step, steps, useSim } from './helpers/emulator';

const MIRROR = { secId: 2, coreMask: '0x30002' };
const mstart = (name: string, core: unknown, type: unknown = 'mirror'): Step => ['POST', '/v1/mirrors/2/components', { name, core, type }];
const mport = (name: string, action: string, port: string, dir: string, extra: Record<string, unknown> = {}): Step => [
  'PUT',
  `/v1/mirrors/2/components/${name}/ports`,
  { action, port, dir, ...extra },
];
const none = (port: string): unknown => ({ port, vlan: { operation: 'none', id: 0, pcp: 0 } });
const answer = (a: Answer): [number, string] => [a.status, a.body];
const req = (url: string, s: Step): Promise<Answer> => call(url, s[0], s[1], s[2]);
const mirrorStatus = async (url: string): Promise<Record<string, unknown>> =>
  JSON.parse((await call(url, 'GET', '/v1/mirrors/2')).body) as Record<string, unknown>;

test('GET /v1/processes lists the mirror with type mirror after the vf; its fresh status has no classifier_table', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}, {"type": "mirror", "client-id": 2}]');
  const a = await call(sim.url, 'GET', '/v1/mirrors/2');
  t.is(a.status, 200);
  t.is(a.contentType, 'application/json');
  t.is(a.body, '{"client-id": 2, "ports": ["phy:0"], "components": [{"core": 16, "type": "unuse"}, {"core": 17, "type": "unuse"}]}');
  t.is(sim.emulator.mirror(2).reply('_get_client_id'), '{ "results": [ { "result": "success" } ], "client_id": 2, "process_type": "mirror" }');
});

test('one tap IN on a 1-NIC host gives exactly the status example of section 2 (a vf ring attached in the mirror too)', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  await steps(t, sim.url, [
    ...SEED_LAYOUT,
    mstart('mirror_0', 16),
    mstart('mirror_1', 17),
    mport('mirror_0', 'attach', 'ring:4', 'tx'),
    mport('mirror_0', 'attach', 'ring:5', 'tx'),
    // ring:0 is still rx of forward_0_tx in the vf: the in-use checks are per process
    mport('mirror_0', 'attach', 'ring:0', 'rx'),
  ]);
  const expected = {
    'client-id': 2,
    ports: ['phy:0', 'ring:0', 'ring:4', 'ring:5'],
    components: [
      { core: 16, name: 'mirror_0', type: 'mirror', rx_port: [none('ring:0')], tx_port: [none('ring:4'), none('ring:5')] },
      { core: 17, name: 'mirror_1', type: 'mirror', rx_port: [], tx_port: [] },
    ],
  };
  const a = await call(sim.url, 'GET', '/v1/mirrors/2');
  t.is(a.body, pyDumps(expected));
  t.deepEqual(sim.emulator.mirror(2).status(), expected as never);
  // the vf is untouched
  t.is((JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: unknown[] }).components.length, 7);
});

test('POST components: only type "mirror" (other types 500, intended 400), keys checked in order', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR] });
  for (const type of ['forward', 'merge', 'classifier_mac'])
    t.deepEqual(answer(await req(sim.url, mstart('m', 16, type))), [500, 'Internal Server Error'], type);
  t.deepEqual(answer(await call(sim.url, 'POST', '/v1/mirrors/2/components', { name: 'm', core: 16 })), [400, 'key(type) required.']);
  t.deepEqual(answer(await call(sim.url, 'POST', '/v1/mirrors/2/components', { core: 16, type: 'mirror' })), [400, 'key(name) required.']);
  t.deepEqual(answer(await req(sim.url, mstart('m', '16'))), [500, 'Internal Server Error']);
  // JSON true passes spp-ctl and is sent as the word True, which the mirror refuses
  t.deepEqual(answer(await req(sim.url, mstart('m', true))), [400, 'command error: bad value(core)']);
  t.deepEqual(answer(await req(sim.url, mstart('m', 16))), [204, '']);
  t.deepEqual(answer(await req(sim.url, mstart('m', 17))), [400, 'command error: bad value(component name)']);
  // several mirror components may share a core
  t.deepEqual(answer(await req(sim.url, mstart('n', 16))), [204, '']);
  t.deepEqual(answer(await req(sim.url, mstart('o', 5))), [400, 'command error: error occur']);
  const lenient = await useSim(t, { mirrors: [MIRROR], lenient: true });
  t.deepEqual(answer(await req(lenient.url, mstart('m', 16, 'forward'))), [400, 'invalid key(type): forward.']);
  // the raw decoder refuses other types too
  t.deepEqual(sim.emulator.mirror(2).execute('component start x 17 forward'), {
    results: [{ result: 'error', error_details: { message: 'bad value(component type)' } }],
  });
});

test('a third tx (or a second rx) is error occur: the extra port is kept, status keeps the pushed view, later pushes fail until it is detached', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  await steps(t, sim.url, [
    mstart('mirror_0', 16),
    mstart('mirror_1', 17),
    mport('mirror_0', 'attach', 'ring:4', 'tx'),
    mport('mirror_0', 'attach', 'ring:5', 'tx'),
  ]);
  const pushed = await mirrorStatus(sim.url);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:6', 'tx'))), [400, 'command error: error occur']);
  t.deepEqual(await mirrorStatus(sim.url), { ...pushed, ports: ['phy:0', 'ring:4', 'ring:5', 'ring:6'] });
  // the management list holds ring:6 as tx: another component cannot take it in that direction
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'ring:6', 'tx'))), [400, 'command error: bad value(port rxtx)']);
  // a later change of mirror_0 fails to push as well
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:0', 'rx'))), [400, 'command error: error occur']);
  t.deepEqual((await mirrorStatus(sim.url)).components, (pushed as { components: unknown[] }).components);
  // other components still push
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'ring:7', 'rx'))), [204, '']);
  // detaching the extra port pushes everything mirror_0's list holds
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'detach', 'ring:6', 'tx'))), [204, '']);
  t.deepEqual((await mirrorStatus(sim.url)).components, [
    { core: 16, name: 'mirror_0', type: 'mirror', rx_port: [none('ring:0')], tx_port: [none('ring:4'), none('ring:5')] },
    { core: 17, name: 'mirror_1', type: 'mirror', rx_port: [none('ring:7')], tx_port: [] },
  ]);
  // a second rx
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:1', 'rx'))), [400, 'command error: error occur']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'detach', 'ring:1', 'rx'))), [204, '']);
  // detaching compacts the list: the former tx[1] becomes tx[0]
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'detach', 'ring:4', 'tx'))), [204, '']);
  t.deepEqual(((await mirrorStatus(sim.url)).components as { tx_port: unknown }[])[0]!.tx_port, [none('ring:5')]);
});

test('port checks per process: in use in this direction, or both directions, in the mirror', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  await steps(t, sim.url, [...SEED_LAYOUT, mstart('mirror_0', 16), mstart('mirror_1', 17), mport('mirror_0', 'attach', 'ring:4', 'tx')]);
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'ring:4', 'tx'))), [400, 'command error: bad value(port rxtx)']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'ring:4', 'rx'))), [204, '']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:4', 'rx'))), [400, 'command error: bad value(port)']);
  // vhost:0 is rx and tx in the vf; the mirror has never seen it
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'vhost:0', 'rx'))), [204, '']);
  // and the vf's own checks ignore the mirror's use of ring:4
  await steps(t, sim.url, [detach('forward_0_tx', 'vhost:0', 'tx'), attach('forward_0_tx', 'ring:4', 'tx')]);
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'nowhere:1', 'rx'))), [500, 'Internal Server Error']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_1', 'attach', 'pcap:1', 'rx'))), [400, 'command error: bad value(port)']);
  t.deepEqual(answer(await req(sim.url, mport('nobody', 'attach', 'ring:5', 'rx'))), [400, 'command error: bad value(component name)']);
});

test('bad values give 500 (the KeyInvalid bug), missing keys 400 in order; a vlan key is ignored entirely', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  await steps(t, sim.url, [mstart('mirror_0', 16)]);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'plug', 'ring:4', 'tx'))), [500, 'Internal Server Error']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:4', 'both'))), [500, 'Internal Server Error']);
  t.deepEqual(answer(await call(sim.url, 'PUT', '/v1/mirrors/2/components/mirror_0/ports', { action: 'attach', dir: 'tx' })), [400, 'key(port) required.']);
  t.deepEqual(answer(await call(sim.url, 'PUT', '/v1/mirrors/2/components/mirror_0/ports', { port: 'ring:4', dir: 'tx' })), [400, 'key(action) required.']);
  // for a vf both of these are 500; a mirror never looks at the key
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:4', 'tx', { vlan: { operation: 'add', id: '100', pcp: 0 } }))), [204, '']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:5', 'tx', { vlan: 'garbage' }))), [204, '']);
  t.deepEqual(((await mirrorStatus(sim.url)).components as { tx_port: unknown }[])[0]!.tx_port, [none('ring:4'), none('ring:5')]);
  const log = sim.emulator.log().filter((e) => e.path.endsWith('/ports'));
  t.true(log.length > 0);
  const lenient = await useSim(t, { mirrors: [MIRROR], lenient: true });
  await steps(t, lenient.url, [mstart('mirror_0', 16)]);
  t.deepEqual(answer(await req(lenient.url, mport('mirror_0', 'plug', 'ring:4', 'tx'))), [400, 'invalid key(action): plug.']);
});

test('404 for a vf id, an absent id, and the classifier endpoint (bottle text); component stop of an unknown name succeeds', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR] });
  t.deepEqual(answer(await call(sim.url, 'GET', '/v1/mirrors/1')), [404, 'sec_id 1 not found.']);
  t.deepEqual(answer(await call(sim.url, 'GET', '/v1/vfs/2')), [404, 'sec_id 2 not found.']);
  t.deepEqual(answer(await call(sim.url, 'GET', '/v1/mirrors/9')), [404, 'sec_id 9 not found.']);
  t.deepEqual(answer(await call(sim.url, 'POST', '/v1/mirrors/1/components', { name: 'm', core: 16, type: 'mirror' })), [404, 'sec_id 1 not found.']);
  t.deepEqual(
    answer(await call(sim.url, 'PUT', '/v1/mirrors/2/classifier_table', { action: 'add', type: 'mac', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0' })),
    [404, "Not found: '/2/classifier_table'"],
  );
  t.deepEqual(answer(await call(sim.url, 'DELETE', '/v1/mirrors/2/components/nobody')), [204, '']);
  await steps(t, sim.url, [mstart('mirror_0', 16)]);
  t.deepEqual(answer(await call(sim.url, 'DELETE', '/v1/mirrors/2/components/mirror_0')), [204, '']);
  t.deepEqual((await mirrorStatus(sim.url)).components, [
    { core: 16, type: 'unuse' },
    { core: 17, type: 'unuse' },
  ]);
});

test('fault hooks: restart a mirror (state gone, 500 while down, 404 for a vf id), fail its next request, a late mirror', async (t) => {
  const sim = await useSim(t, { mirrors: [MIRROR], rings: 8 });
  await steps(t, sim.url, [mstart('mirror_0', 16), mport('mirror_0', 'attach', 'ring:4', 'tx')]);
  t.is((await call(sim.url, 'POST', '/_sim/mirrors/2/restart', { downMs: 60_000 })).status, 204);
  t.deepEqual(answer(await call(sim.url, 'GET', '/v1/mirrors/2')), [500, 'Internal Server Error']);
  t.is((await call(sim.url, 'POST', '/_sim/mirrors/2/restart')).status, 204);
  t.is(
    (await call(sim.url, 'GET', '/v1/mirrors/2')).body,
    '{"client-id": 2, "ports": ["phy:0"], "components": [{"core": 16, "type": "unuse"}, {"core": 17, "type": "unuse"}]}',
  );
  t.deepEqual(answer(await call(sim.url, 'POST', '/_sim/mirrors/1/restart')), [404, 'the emulator has no mirror 1']);
  t.is((await call(sim.url, 'POST', '/_sim/faults', { path: '^/v1/mirrors/', method: 'PUT' })).status, 204);
  t.deepEqual(answer(await req(sim.url, mstart('mirror_0', 16))), [204, '']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:4', 'tx'))), [500, 'Internal Server Error']);
  t.deepEqual(answer(await req(sim.url, mport('mirror_0', 'attach', 'ring:4', 'tx'))), [204, '']);
  t.is((await call(sim.url, 'POST', '/_sim/mirrors/2/appear-after', {})).status, 204);
  t.is((await call(sim.url, 'GET', '/v1/processes')).body, '[{"type": "primary"}, {"type": "vf", "client-id": 1}]');
  t.deepEqual(answer(await call(sim.url, 'GET', '/v1/mirrors/2')), [404, 'sec_id 2 not found.']);
});

test('Node API: ids are shared with vfs; rings default to 2 per vhost then 2 per mirror core', async (t) => {
  t.throws(() => createEmulator({ vfs: [{ secId: 1, coreMask: '0x1fe' }], mirrors: [{ secId: 1, coreMask: '0x30002' }] }), {
    message: /client id 1 is listed twice/,
  });
  const emu = createEmulator({ mappings: [{ pci_address: '00:04.0', physical_network: 'phys1', num_vhost: 2, core_mask: '0xfe' }], mirrors: [MIRROR] });
  t.deepEqual(emu.secIds(), [1]);
  t.deepEqual(emu.mirrorIds(), [2]);
  t.throws(() => emu.mirror(1), { message: /is a vf, not a mirror/ });
  const m = emu.mirror(2);
  t.is(m.kind, 'mirror');
  t.regex(m.reply('component start mirror_0 16 mirror')!, /success/);
  // 4 vhost rings + 4 mirror rings: ring:7 exists, ring:8 does not
  t.regex(m.reply('port add ring:7 tx mirror_0')!, /success/);
  t.regex(m.reply('port add ring:8 tx mirror_0')!, /error occur/);
  emu.close();
});
