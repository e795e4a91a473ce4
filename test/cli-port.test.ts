import { type AddressInfo, createServer, type Socket } from 'node:net';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import type { Io } from '../src/cli/framework';
import { main } from '../src/cli/main';
import { freePort } from '../src/localetcd/ports';
import { keys } from '../src/protocol/keys';
import { type EtcdContext, useEtcd } from './helpers/etcd';
import { FakeAgentPeer, type FakeAgentPeerOptions, SEED_NICS, seedHost } from './helpers/fake-agent-peer';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const MAC = 'fa:16:3e:a0:da:db';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function spp(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    env,
  };
  const code = await main(argv, io);
  return { code, out, err };
}

function etcdArgs(t: ExecutionContext<EtcdContext>): string[] {
  return ['--etcd-endpoints', t.context.etcd.endpoint];
}

async function hostWithPeer(t: ExecutionContext<EtcdContext>, host: string, opts: Omit<FakeAgentPeerOptions, 'host'> = {}): Promise<void> {
  await seedHost(t.context.client, host, SEED_NICS);
  const peer = await FakeAgentPeer.start(t.context.client, { host, ...opts });
  t.teardown(() => peer.stop());
}

test('port bind prints the binding as JSON and exits 0; port unbind --wait releases it; a second unbind has nothing to do', async (t) => {
  await hostWithPeer(t, 'c1');
  const bind = await spp(['port', 'bind', '--host', 'c1', '--port-id', PORT, '--mac', MAC, '--phys', 'phys2', '--vlan', '10', ...etcdArgs(t)]);
  t.is(bind.code, 0, bind.err);
  t.is(bind.err, '');
  t.deepEqual(JSON.parse(bind.out), {
    vif_type: 'vhostuser',
    vif_details: { port_filter: false, vhostuser_mode: 'server', vhostuser_socket: '/tmp/sock2' },
    vhost_id: 2,
    physical_network: 'phys2',
    status: 'ACTIVE',
  });
  t.is(await t.context.client.get(keys.bindPort('c1', PORT)).string(), '{"vhost_id": 2, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 10}');

  const unbind = await spp(['port', 'unbind', '--host', 'c1', '--port-id', PORT, '--wait', '--timeout', '5', '--format', 'json', ...etcdArgs(t)]);
  t.is(unbind.code, 0, unbind.err);
  t.is(JSON.parse(unbind.out).outcome, 'unbound');
  t.is(await t.context.client.get(keys.vhost('c1', 'phys2', 2)).string(), 'None');
  t.false(await t.context.client.get(keys.bindPort('c1', PORT)).exists());

  const again = await spp(['port', 'unbind', '--host', 'c1', '--port-id', PORT, ...etcdArgs(t)]);
  t.is(again.code, 0);
  t.regex(again.out, /^nothing to unbind: port 6160c9da-\S+ has no action on c1/);
});

test('port list shows ports as JSON and as a table', async (t) => {
  await hostWithPeer(t, 'c2');
  t.is((await spp(['port', 'bind', '--host', 'c2', '--port-id', 'pa', '--mac', MAC, '--phys', 'phys1', ...etcdArgs(t)])).code, 0);
  const json = await spp(['port', 'list', '--host', 'c2', '--format', 'json', ...etcdArgs(t)]);
  t.is(json.code, 0, json.err);
  t.deepEqual(JSON.parse(json.out), [
    { host: 'c2', portId: 'pa', vhostId: 0, physicalNetwork: 'phys1', mac: MAC, vlanId: null, action: 'plug', status: 'up', errors: {} },
  ]);
  const text = await spp(['port', 'list', '--host', 'c2', ...etcdArgs(t)]);
  t.is(text.code, 0);
  const lines = text.out.trimEnd().split('\n');
  t.deepEqual(lines[0]?.split(/\s+/), ['HOST', 'PORT', 'VHOST', 'PHYS', 'MAC', 'VLAN', 'ACTION', 'STATUS']);
  t.deepEqual(lines[1]?.split(/\s+/), ['c2', 'pa', '0', 'phys1', MAC, '-', 'plug', 'up']);
  t.is(lines.length, 2);
});

test('port list takes the endpoints from SPP_ETCD_ENDPOINTS', async (t) => {
  await seedHost(t.context.client, 'c3', SEED_NICS);
  const run = await spp(['port', 'list', '--host', 'c3'], { SPP_ETCD_ENDPOINTS: t.context.etcd.endpoint });
  t.is(run.code, 0, run.err);
  t.is(run.out, 'no ports\n');
});

test('port bind failures go to stderr with exit 1: agent down, then bound with --skip-liveness-check', async (t) => {
  await hostWithPeer(t, 'c4', { liveness: false });
  const args = ['port', 'bind', '--host', 'c4', '--port-id', PORT, '--mac', MAC, '--phys', 'phys1', ...etcdArgs(t)];
  const down = await spp(args);
  t.is(down.code, 1);
  t.is(down.out, '');
  t.regex(down.err, /^spp port bind: agent down on c4: \/spp\/openstack\/agent\/c4 is missing/);
  t.true(down.err.includes('--skip-liveness-check'));
  const skipped = await spp([...args, '--skip-liveness-check']);
  t.is(skipped.code, 0, skipped.err);
  t.is(JSON.parse(skipped.out).vhost_id, 0);
});

test('port bind: no free vhost and agent timeout exit 1 with the reason', async (t) => {
  await hostWithPeer(t, 'c5', { ignore: ['slow'] });
  const bind = (port: string, ...extra: string[]) =>
    spp(['port', 'bind', '--host', 'c5', '--port-id', port, '--mac', MAC, '--phys', 'phys1', ...extra, ...etcdArgs(t)]);
  const slow = await bind('slow', '--timeout', '0.3');
  t.is(slow.code, 1);
  t.regex(slow.err, /^spp port bind: timeout: no port_status from the agent on c5 for port slow within 300 ms/);
  t.is((await bind('p2')).code, 0);
  const full = await bind('p3');
  t.is(full.code, 1);
  t.is(full.err, 'spp port bind: no free vhost on phys1 of c5\n');
});

test('port bind: bad input and missing options are usage errors (exit 2) and write nothing', async (t) => {
  await hostWithPeer(t, 'c6');
  const badMac = await spp(['port', 'bind', '--host', 'c6', '--port-id', PORT, '--mac', 'nope', '--phys', 'phys1', ...etcdArgs(t)]);
  t.is(badMac.code, 2);
  t.regex(badMac.err, /mac: "nope" is not a MAC address/);
  const badVlan = await spp(['port', 'bind', '--host', 'c6', '--port-id', PORT, '--mac', MAC, '--phys', 'phys1', '--vlan', '5000', ...etcdArgs(t)]);
  t.is(badVlan.code, 2);
  t.regex(badVlan.err, /vlan: must be an integer 1-4094, got 5000/);
  const missing = await spp(['port', 'bind', '--host', 'c6', '--mac', MAC, '--phys', 'phys1', ...etcdArgs(t)]);
  t.is(missing.code, 2);
  t.regex(missing.err, /--port-id is required/);
  const unreachable = await spp([
    'port',
    'bind',
    '--host',
    'c6',
    '--port-id',
    PORT,
    '--mac',
    'nope',
    '--phys',
    'phys1',
    '--etcd-endpoints',
    `127.0.0.1:${await freePort()}`,
  ]);
  t.is(unreachable.code, 2, 'bad input is reported as such even when etcd is down');
  t.false(await t.context.client.get(keys.bindPort('c6', PORT)).exists());
  t.is(await t.context.client.get(keys.vhost('c6', 'phys1', 0)).string(), 'None');
});

test('an unreachable etcd fails with exit 1 and a message naming the endpoints', async (t) => {
  const endpoint = `127.0.0.1:${await freePort()}`;
  for (const argv of [
    ['port', 'list'],
    ['port', 'unbind', '--host', 'h', '--port-id', PORT],
    ['port', 'bind', '--host', 'h', '--port-id', PORT, '--mac', MAC, '--phys', 'phys1'],
  ]) {
    const run = await spp([...argv, '--etcd-endpoints', endpoint]);
    t.is(run.code, 1);
    t.true(run.err.startsWith(`spp ${argv[0]} ${argv[1]}: cannot reach etcd at ${endpoint}`), run.err);
  }
});

test('an etcd endpoint that accepts connections but never answers fails within the probe deadline', async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => {
    sockets.push(socket);
    socket.on('data', () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const endpoint = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const run = await spp(['port', 'list', '--etcd-endpoints', endpoint]);
  t.is(run.code, 1);
  t.true(run.err.startsWith(`spp port list: cannot reach etcd at ${endpoint}`), run.err);
});

test('every port command has --help', async (t) => {
  for (const sub of ['bind', 'unbind', 'list']) {
    const run = await spp(['port', sub, '--help']);
    t.is(run.code, 0);
    t.true(run.out.startsWith(`usage: spp port ${sub} [options]`));
    t.true(run.out.includes('--etcd-endpoints'));
  }
});
