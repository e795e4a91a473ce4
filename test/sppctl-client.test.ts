/**
 * The typed spp-ctl client: typed errors with spp-ctl's text, io-ts
 * validation of status bodies, and the same results over HTTP and in process.
 */
import test from 'ava';
import { type ExchangeOutcome, httpTransport, inProcessTransport, SppCtlClient, SppCtlError, type SppCtlTransport } from '../src/sppctl/client';
import type { SppCommand } from '../src/sppctl/commands';
import { createEmulator, startEmulatorServer } from '../src/sppctl/emulator';
import { errorOf, SECTION5_STATUS } from './helpers/emulator';

const SEED: SppCommand[] = [
  ...(
    [
      ['forward_0_tx', 2, 'forward'],
      ['forward_0_rx', 3, 'forward'],
      ['forward_1_tx', 4, 'forward'],
      ['forward_1_rx', 5, 'forward'],
      ['classifier', 6, 'classifier_mac'],
      ['merger', 7, 'merge'],
    ] as const
  ).map(([name, core, type]): SppCommand => ({ op: 'component_start', secId: 1, name, core, type })),
  ...(
    [
      ['forward_0_tx', 'ring:0', 'rx'],
      ['forward_0_tx', 'vhost:0', 'tx'],
      ['forward_0_rx', 'vhost:0', 'rx'],
      ['forward_0_rx', 'ring:1', 'tx'],
      ['forward_1_tx', 'ring:2', 'rx'],
      ['forward_1_tx', 'vhost:1', 'tx'],
      ['forward_1_rx', 'vhost:1', 'rx'],
      ['forward_1_rx', 'ring:3', 'tx'],
      ['classifier', 'phy:0', 'rx'],
      ['classifier', 'ring:0', 'tx'],
      ['classifier', 'ring:2', 'tx'],
      ['merger', 'ring:1', 'rx'],
      ['merger', 'ring:3', 'rx'],
      ['merger', 'phy:0', 'tx'],
    ] as const
  ).map(([component, port, dir]): SppCommand => ({ op: 'port_attach', secId: 1, component, port, dir })),
  { op: 'classifier_add', secId: 1, mac: '12:ab:34:cd:56:ef', port: 'ring:0' },
];

const OPTIONS = { vfs: [{ secId: 1, coreMask: '0x1fe' }], phyPorts: 1, rings: 4 };

async function httpClient(t: import('ava').ExecutionContext, onExchange?: (req: unknown, o: ExchangeOutcome, ms: number) => void): Promise<SppCtlClient> {
  const server = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, ...OPTIONS });
  t.teardown(() => server.close());
  return new SppCtlClient(httpTransport(server.url, { timeoutMs: 2000 }), onExchange ? { onExchange } : {});
}

test('processes, vfStatus and send over HTTP build the section 5 status', async (t) => {
  const client = await httpClient(t);
  t.deepEqual(await client.processes(), [{ type: 'primary' }, { type: 'vf', 'client-id': 1 }]);
  t.deepEqual(await client.vfIds(), [1]);
  for (const cmd of SEED) await client.send(cmd);
  t.deepEqual(await client.vfStatus(1), SECTION5_STATUS as never);
});

test('an spp_vf error is an SppCtlError of kind http with spp-ctl text in the message', async (t) => {
  const client = await httpClient(t);
  const err = await errorOf(client.send({ op: 'classifier_add', secId: 1, mac: '12:ab:34:cd:56:ef', port: 'ring:0' }));
  t.is(err.kind, 'http');
  t.is(err.status, 400);
  t.is(err.body, 'command error: bad value(port)');
  t.is(err.message, 'PUT /v1/vfs/1/classifier_table: 400 command error: bad value(port)');
  t.deepEqual(err.request, {
    method: 'PUT',
    path: '/v1/vfs/1/classifier_table',
    body: { action: 'add', type: 'mac', mac_address: '12:ab:34:cd:56:ef', port: 'ring:0' },
  });
});

test('unknown vf: 404 with spp-ctl text', async (t) => {
  const client = await httpClient(t);
  const err = await errorOf(client.vfStatus(5));
  t.deepEqual([err.kind, err.status, err.message], ['http', 404, 'GET /v1/vfs/5: 404 sec_id 5 not found.']);
});

test('a closed port is kind unreachable, with no status', async (t) => {
  const server = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, ...OPTIONS });
  await server.close();
  const client = new SppCtlClient(httpTransport(server.url, { timeoutMs: 2000 }));
  const err = await errorOf(client.processes());
  t.is(err.kind, 'unreachable');
  t.is(err.status, undefined);
  t.regex(err.message, /^GET \/v1\/processes: cannot reach spp-ctl at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED/);
});

test('a hung vf is kind timeout', async (t) => {
  const server = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, ...OPTIONS });
  t.teardown(() => server.close());
  const client = new SppCtlClient(httpTransport(server.url, { timeoutMs: 150 }));
  const err = await errorOf(client.send({ op: 'component_start', secId: 1, name: 'm', core: 1, type: 'forward' }));
  t.is(err.kind, 'timeout');
  t.is(err.status, undefined);
  t.regex(err.message, /^POST \/v1\/vfs\/1\/components: no answer from .* within 150 ms$/);
  server.emulator.restartVf(1);
});

test('a dropped connection is kind unreachable (HTTP and in process)', async (t) => {
  const server = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, ...OPTIONS });
  t.teardown(() => server.close());
  server.emulator.addFault({ action: 'drop', count: 2 });
  const viaHttp = await errorOf(new SppCtlClient(httpTransport(server.url)).processes());
  const inProc = await errorOf(new SppCtlClient(inProcessTransport(server.emulator)).processes());
  t.deepEqual([viaHttp.kind, inProc.kind], ['unreachable', 'unreachable']);
});

test('a status body that does not match VfStatus names the field', async (t) => {
  const bad: SppCtlTransport = async () => ({
    status: 200,
    contentType: 'application/json',
    body: JSON.stringify({
      'client-id': 1,
      ports: [],
      components: [{ core: 2, name: 'f', type: 'forward', rx_port: [{ port: 'ring:0', vlan: { operation: 'none', id: 'x', pcp: 0 } }], tx_port: [] }],
      classifier_table: [],
    }),
  });
  const err = await errorOf(new SppCtlClient(bad).vfStatus(1));
  t.is(err.kind, 'invalid');
  t.is(err.status, 200);
  t.regex(err.message, /components\[0\]\.rx_port\[0\]\.vlan\.id: expected number, got "x"/);
  const notJson: SppCtlTransport = async () => ({ status: 200, body: '<html>' });
  t.regex((await errorOf(new SppCtlClient(notJson).processes())).message, /body is not JSON/);
});

test('in-process transport gives the same results as HTTP, errors included', async (t) => {
  const commands: SppCommand[] = [
    ...SEED,
    { op: 'classifier_add', secId: 1, mac: '12:ab:34:cd:56:ef', port: 'ring:0' },
    { op: 'port_attach', secId: 1, component: 'nothing', port: 'ring:0', dir: 'rx' },
    { op: 'component_stop', secId: 1, name: 'forward_1_rx' },
    { op: 'port_attach', secId: 1, component: 'forward_0_tx', port: 'ring:3', dir: 'rx', vlan: { operation: 'add', id: 10, pcp: 1 } },
    { op: 'component_start', secId: 1, name: 'x', core: 200, type: 'merge' },
    { op: 'classifier_del', secId: 1, mac: '12:ab:34:cd:56:ef', port: 'ring:0' },
  ];
  const run = async (client: SppCtlClient): Promise<unknown[]> => {
    const out: unknown[] = [];
    for (const c of commands)
      out.push(
        await client.send(c).then(
          () => 'ok',
          (e: SppCtlError) => [e.kind, e.status, e.message],
        ),
      );
    out.push(await client.vfStatus(1));
    out.push(await client.vfStatus(2).catch((e: SppCtlError) => e.message));
    return out;
  };
  const viaHttp = await run(await httpClient(t));
  const emu = createEmulator(OPTIONS);
  const inProc = await run(new SppCtlClient(inProcessTransport(emu)));
  t.deepEqual(inProc, viaHttp);
  t.true(viaHttp.filter((x) => x !== 'ok').length >= 4);
});

test('onExchange sees every request with its response or error', async (t) => {
  const seen: string[] = [];
  const client = await httpClient(t, (req, outcome, ms) => {
    const r = req as { method: string; path: string };
    seen.push(`${r.method} ${r.path} ${outcome instanceof SppCtlError ? `error ${outcome.kind}` : outcome.status} ${ms >= 0}`);
  });
  await client.processes();
  await client.vfStatus(3).catch(() => undefined);
  t.deepEqual(seen, ['GET /v1/processes 200 true', 'GET /v1/vfs/3 404 true']);
});

test('in-process transport with timeoutMs gives up on a hung vf', async (t) => {
  const emu = createEmulator(OPTIONS);
  const client = new SppCtlClient(inProcessTransport(emu, { timeoutMs: 50 }));
  const err = await errorOf(client.send({ op: 'component_start', secId: 1, name: 'm', core: 1, type: 'forward' }));
  t.is(err.kind, 'timeout');
  emu.restartVf(1);
  t.is((await client.vfStatus(1)).components.length, 7);
});
