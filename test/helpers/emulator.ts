/**
 * Helpers for tests against the spp-ctl emulator over real HTTP on loopback.
 */
import type { ExecutionContext } from 'ava';
import { SppCtlError } from '../../src/sppctl/client';
import { type EmulatorOptions, type EmulatorServer, startEmulatorServer } from '../../src/sppctl/emulator';

export interface Answer {
  readonly status: number;
  readonly contentType: string | null;
  readonly body: string;
}

/** One raw HTTP request; `body` is sent as is (a string) or JSON-encoded. */
export async function call(url: string, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const res = await fetch(url + path, {
    method,
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': contentType } } : {}),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** An emulator server on 127.0.0.1, port 0, closed when the test ends. */
export async function useSim(t: ExecutionContext, options: EmulatorOptions = {}): Promise<EmulatorServer> {
  const server = await startEmulatorServer({
    listen: { host: '127.0.0.1', port: 0 },
    vfs: [{ secId: 1, coreMask: '0x1fe' }],
    phyPorts: 1,
    rings: 4,
    ...options,
  });
  t.teardown(() => server.close());
  return server;
}

/** A request; the 4th element is the status a set-up step must get (default 204). */
export type Step = readonly [method: string, path: string, body?: unknown, expectStatus?: number];

export const start = (name: string, core: number, type: string): Step => ['POST', '/v1/vfs/1/components', { name, core, type }];
export const attach = (component: string, port: string, dir: string, vlan?: unknown): Step => [
  'PUT',
  `/v1/vfs/1/components/${component}/ports`,
  { action: 'attach', port, dir, ...(vlan !== undefined ? { vlan } : {}) },
];
export const detach = (component: string, port: string, dir: string): Step => [
  'PUT',
  `/v1/vfs/1/components/${component}/ports`,
  { action: 'detach', port, dir },
];
export const classify = (action: string, mac: string, port: string, vlan?: unknown): Step => [
  'PUT',
  '/v1/vfs/1/classifier_table',
  { action, type: vlan === undefined ? 'mac' : 'vlan', mac_address: mac, port, ...(vlan !== undefined ? { vlan } : {}) },
];

/** The seed layout of spec section 5: one NIC, 2 vhosts, lcores 1-8 (master 1), 4 rings. */
export const SEED_LAYOUT: Step[] = [
  start('forward_0_tx', 2, 'forward'),
  start('forward_0_rx', 3, 'forward'),
  start('forward_1_tx', 4, 'forward'),
  start('forward_1_rx', 5, 'forward'),
  start('classifier', 6, 'classifier_mac'),
  start('merger', 7, 'merge'),
  attach('forward_0_tx', 'ring:0', 'rx'),
  attach('forward_0_tx', 'vhost:0', 'tx'),
  attach('forward_0_rx', 'vhost:0', 'rx'),
  attach('forward_0_rx', 'ring:1', 'tx'),
  attach('forward_1_tx', 'ring:2', 'rx'),
  attach('forward_1_tx', 'vhost:1', 'tx'),
  attach('forward_1_rx', 'vhost:1', 'rx'),
  attach('forward_1_rx', 'ring:3', 'tx'),
  attach('classifier', 'phy:0', 'rx'),
  attach('classifier', 'ring:0', 'tx'),
  attach('classifier', 'ring:2', 'tx'),
  attach('merger', 'ring:1', 'rx'),
  attach('merger', 'ring:3', 'rx'),
  attach('merger', 'phy:0', 'tx'),
];

/** Runs steps that must all succeed (204), failing the test with the answer otherwise. */
export async function steps(t: ExecutionContext, url: string, list: readonly Step[]): Promise<void> {
  for (const [method, path, body, expected] of list) {
    const a = await call(url, method, path, body);
    if (a.status !== (expected ?? 204)) t.fail(`set-up step ${method} ${path} ${JSON.stringify(body)} answered ${a.status} ${a.body}`);
  }
}

/** The section 5 example, as spp-ctl's one-line body. */
export const SECTION5_STATUS = {
  'client-id': 1,
  ports: ['phy:0', 'vhost:0', 'vhost:1', 'ring:0', 'ring:1', 'ring:2', 'ring:3'],
  components: [
    { core: 2, name: 'forward_0_tx', type: 'forward', rx_port: [p('ring:0')], tx_port: [p('vhost:0')] },
    { core: 3, name: 'forward_0_rx', type: 'forward', rx_port: [p('vhost:0')], tx_port: [p('ring:1')] },
    { core: 4, name: 'forward_1_tx', type: 'forward', rx_port: [p('ring:2')], tx_port: [p('vhost:1')] },
    { core: 5, name: 'forward_1_rx', type: 'forward', rx_port: [p('vhost:1')], tx_port: [p('ring:3')] },
    { core: 6, name: 'classifier', type: 'classifier_mac', rx_port: [p('phy:0')], tx_port: [p('ring:0'), p('ring:2')] },
    { core: 7, name: 'merger', type: 'merge', rx_port: [p('ring:1'), p('ring:3')], tx_port: [p('phy:0')] },
    { core: 8, type: 'unuse' },
  ],
  classifier_table: [{ type: 'mac', value: '12:AB:34:CD:56:EF', port: 'ring:0' }],
};

function p(port: string): unknown {
  return { port, vlan: { operation: 'none', id: 0, pcp: 0 } };
}

/** Python's json.dumps of plain data (separators ", " and ": "), for expected bodies. */
export function pyDumps(x: unknown): string {
  return JSON.stringify(x).replace(/("(?:[^"\\]|\\.)*")|([,:])/g, (_m, str: string | undefined, sep: string | undefined) => str ?? `${sep} `);
}

/** The SppCtlError a client call fails with (anything else fails the test). */
export async function errorOf(p: Promise<unknown>): Promise<SppCtlError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof SppCtlError) return err;
    throw err;
  }
  throw new Error('expected an SppCtlError');
}
