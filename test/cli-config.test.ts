import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { freePort } from '../src/localetcd/ports';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { dump, type EtcdContext, parseEtcdctlText, useEtcd, withEtcd } from './helpers/etcd';
import { FIXTURES } from './helpers/fixtures';

// These tests look at the whole /spp tree of a shared etcd, so they run one at a time.
const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const repoRoot = resolve(__dirname, '..', '..');
const fixture = (name: string) => parseEtcdctlText(readFileSync(join(FIXTURES, name), 'utf8'));
const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';
const PORT = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const endpoints = (t: { context: EtcdContext }) => ['--etcd-endpoints', t.context.etcd.endpoint];

/** Values compared as JSON where they are JSON (key order and spacing do not count), as text otherwise. */
function jsonEqualForm(values: Record<string, string>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => {
      try {
        return [k, JSON.parse(v)];
      } catch {
        return [k, v];
      }
    }),
  );
}

test('config build --config-format legacy with the seed mappings produces exactly the seed-fresh fixture', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    const r = await runCli(['config', 'build', '--host', 'spp4', '--mappings', SEED, '--config-format', 'legacy', '--etcd-endpoints', etcd.endpoint]);
    t.is(r.code, 0, r.err);
    t.is(r.err, '');
    const got = await dump(client, '/spp/');
    const want = fixture('seed-fresh.etcdctl.txt');
    t.deepEqual(Object.keys(got).sort(), Object.keys(want).sort());
    t.deepEqual(jsonEqualForm(got), jsonEqualForm(want));
  });
});

test.serial('the seed typo xfc02 exits 2 (bad input, as spp sim), names the NIC entry and the mask, and writes nothing', async (t) => {
  const before = await dump(t.context.client, '/spp/');
  const r = await runCli(['config', 'build', '--host', 'typo', '--mappings', '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#xfc02', ...endpoints(t)]);
  t.is(r.code, 2);
  t.is(r.out, '');
  t.is(
    r.err,
    'spp config build: invalid mappings "00:04.0#phys1#2#0xfe,00:05.0#phys2#2#xfc02"; nothing written:\n' +
      '  - NIC entry 2 "00:05.0#phys2#2#xfc02": field core_mask: "xfc02" is not a hex core mask (e.g. 0xfe)\n',
  );
  t.deepEqual(await dump(t.context.client, '/spp/'), before);
});

test.serial('mappings and endpoints come from DPDK_PORT_MAPPINGS and SPP_ETCD_ENDPOINTS; warnings go to stderr', async (t) => {
  const r = await runCli(['config', 'build', '--host', 'envhost'], {
    DPDK_PORT_MAPPINGS: '00:04.0#phys1#6#0xfffe',
    SPP_ETCD_ENDPOINTS: t.context.etcd.endpoint,
  });
  t.is(r.code, 0, r.err);
  t.regex(
    r.err,
    /^warning: NIC 0 \(00:04\.0\): the status of its spp_vf with every vhost plugged is 47\d\d bytes; spp-ctl cannot return a status of 4096 bytes or more on SPP 18\.08 to 19\.08 \(fixed in 19\.11\); give --spp-version to check for one release\n$/,
  );
  t.is(await t.context.client.get(keys.vhost('envhost', 'phys1', 5)).string(), 'None');
});

test.serial(
  '--spp-version: a NIC whose status would not fit is refused on a release that cannot return it, naming the NIC and the release; 19.11 takes it',
  async (t) => {
    const before = await dump(t.context.client, '/spp/');
    const mappings = '00:04.0#phys1#5#0x1fff,00:05.0#phys2#6#0xfffe000';
    const r = await runCli(['config', 'build', '--host', 'sized', '--spp-version', '18.08.3', '--mappings', mappings, ...endpoints(t)]);
    t.is(r.code, 2);
    t.is(r.out, '');
    t.regex(
      r.err,
      /^spp config build: invalid mappings .*; nothing written:\n {2}- NIC 1 \(00:05\.0\): the status of its spp_vf with every vhost plugged is 47\d\d bytes; spp-ctl cannot return a status of 4096 bytes or more on SPP 18\.08\.3 \(HTTP 500, and GET \/v1\/processes drops the vf\): configure fewer vhosts on this NIC, or use SPP 19\.11\n$/,
    );
    t.deepEqual(await dump(t.context.client, '/spp/'), before);
    const fixed = await runCli(['config', 'build', '--host', 'sized', '--spp-version', '19.11', '--mappings', mappings, ...endpoints(t)]);
    t.is(fixed.code, 0, fixed.err);
    t.is(fixed.err, '');
    const five = await runCli(['config', 'build', '--host', 'sized5', '--spp-version', '18.08', '--mappings', '00:04.0#phys1#5#0x1fff', ...endpoints(t)]);
    t.is(five.code, 0, five.err);
    t.is(five.err, '');
    const bad = await runCli(['config', 'build', '--host', 'x', '--spp-version', '18.9', '--mappings', SEED, ...endpoints(t)]);
    t.is(bad.code, 2);
    t.regex(bad.err, /--spp-version must be one of 18\.08, .*got "18\.9"/);
  },
);

test.serial('re-running build keeps a claim; moving a claimed vhost is refused without --force', async (t) => {
  const { client } = t.context;
  t.is((await runCli(['config', 'build', '--host', 'c1', '--mappings', SEED, ...endpoints(t)])).code, 0);
  await client.put(keys.vhost('c1', 'phys1', 0)).value(PORT);
  const again = await runCli(['config', 'build', '--host', 'c1', '--mappings', SEED, ...endpoints(t)]);
  t.is(again.code, 0, again.err);
  t.true(again.out.includes('already up to date; nothing written'));
  t.true(again.out.includes(`kept /spp/openstack/vhost/c1/phys1/0 (claimed by port ${PORT})`));
  t.is(await client.get(keys.vhost('c1', 'phys1', 0)).string(), PORT);

  const before = await dump(client, '/spp/');
  const swapped = '00:04.0#phys2#2#0xfe,00:05.0#phys1#2#0xfc02';
  const moved = await runCli(['config', 'build', '--host', 'c1', '--mappings', swapped, ...endpoints(t)]);
  t.is(moved.code, 1);
  t.is(
    moved.err,
    'spp config build: refusing to change the set-up of host c1 (use --force to override):\n' +
      `  - /spp/openstack/vhost/c1/phys1/0 is claimed by port ${PORT}; the new configuration puts vhost 0 under physical network phys2\n` +
      'nothing written\n',
  );
  t.deepEqual(await dump(client, '/spp/'), before);

  const forced = await runCli(['config', 'build', '--host', 'c1', '--mappings', swapped, '--force', ...endpoints(t)]);
  t.is(forced.code, 0, forced.err);
  t.true(forced.err.includes(`warning: /spp/openstack/vhost/c1/phys1/0 was claimed by port ${PORT}; removed because of --force`));
  t.is(await client.get(keys.vhost('c1', 'phys2', 0)).string(), 'None');
});

test.serial('destroy refuses with bound ports, works with --force, removes exactly the host keys', async (t) => {
  const { client } = t.context;
  t.is((await runCli(['config', 'build', '--host', 'z1', '--mappings', SEED, ...endpoints(t)])).code, 0);
  t.is((await runCli(['config', 'build', '--host', 'z2', '--mappings', SEED, ...endpoints(t)])).code, 0);
  await client.put(keys.vhost('z1', 'phys2', 2)).value(PORT);
  await client.put(keys.bindPort('z1', PORT)).value('{"vhost_id": 2, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 10}');
  await client.put(keys.action('z1', PORT)).value('plug');
  await client.put(keys.portStatus('z1', PORT)).value('up');
  await client.put(keys.agent('z1')).value('{"version": "0.1.0", "started_at": "t", "pid": 5}');
  const all = await dump(client, '/spp/');
  const z1Setup = Object.keys(all).filter((k) => k.split('/')[4] === 'z1' && !k.startsWith('/spp/openstack/agent/'));
  t.is(z1Setup.length, 8);

  const refused = await runCli(['config', 'destroy', '--host', 'z1', ...endpoints(t)]);
  t.is(refused.code, 1);
  t.is(
    refused.err,
    'spp config destroy: refusing to destroy host z1: ports are bound (unbind them first, or use --force):\n' +
      `  - port ${PORT} has /spp/openstack/action/z1/${PORT} = plug, has /spp/openstack/bind_port/z1/${PORT}, claims /spp/openstack/vhost/z1/phys2/2\n` +
      'nothing removed\n',
  );
  t.deepEqual(await dump(client, '/spp/'), all);

  const forced = await runCli(['config', 'destroy', '--host', 'z1', '--force', ...endpoints(t)]);
  t.is(forced.code, 0, forced.err);
  t.true(forced.out.startsWith('host z1: removed 8 key(s)\n'));
  const expected = Object.fromEntries(Object.entries(all).filter(([k]) => !z1Setup.includes(k)));
  t.deepEqual(await dump(client, '/spp/'), expected);

  const free = await runCli(['config', 'destroy', '--host', 'z2', ...endpoints(t)]);
  t.is(free.code, 0, free.err);
  t.deepEqual(
    Object.keys(await dump(client, '/spp/')).filter((k) => k.split('/')[4] === 'z2'),
    [],
  );
});

test.serial('config show prints the configuration, layout per NIC and vhost usage; json is the host view', async (t) => {
  t.is((await runCli(['config', 'build', '--host', 's1', '--mappings', SEED, ...endpoints(t)])).code, 0);
  const text = await runCli(['config', 'show', '--host', 's1', ...endpoints(t)]);
  t.is(text.code, 0, text.err);
  t.true(text.out.includes('  0    phy:0  1       00:04.0  phys1             0-1     0xfe       1       2-7'));
  t.true(text.out.includes('NIC 1 (00:05.0, phys2): spp_vf sec_id 2, master core 1'));
  t.true(text.out.includes('  forward_3_rx  forward         13    vhost:3        ring:7'));
  t.true(text.out.includes('  merger        merge           15    ring:5,ring:7  phy:1'));
  t.true(text.out.includes('  3      phys2             1    free   /spp/openstack/vhost/s1/phys2/3'));
  const json = await runCli(['config', 'show', '--host', 's1', '--format', 'json', ...endpoints(t)]);
  t.is(json.code, 0);
  const view = JSON.parse(json.out);
  t.is(view.host, 's1');
  t.deepEqual(view.layout[0].components[4], { name: 'classifier', type: 'classifier_mac', core: 6, rx: ['phy:0'], tx: ['ring:0', 'ring:2'] });

  await t.context.client.put(keys.configuration('s2')).value('[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 2, "core_mask": "0x1e"}]');
  const broken = await runCli(['config', 'show', '--host', 's2', ...endpoints(t)]);
  t.is(broken.code, 1);
  t.is(
    broken.err,
    'spp config show: /spp/openstack/configuration/s2: NIC 0 (00:04.0): core mask 0x1e has 3 occupied core(s) [2,3,4] besides master core 1; ' +
      '2 vhost(s) need exactly 6 (2 forwarders per vhost + classifier + merger)\n' +
      'spp config show: /spp/openstack/configuration/s2: NIC 0 (00:04.0): core mask 0x1e has fewer than the 6 occupied cores its layout needs\n',
  );
  await t.context.client.put(keys.configuration('s3')).value('[{"pci_address": 1}]');
  const undecodable = await runCli(['config', 'show', '--host', 's3', ...endpoints(t)]);
  t.is(undecodable.code, 1);
  t.true(undecodable.err.startsWith('spp config show: /spp/openstack/configuration/s3: field 0.pci_address: expected PCI address, got 1'));

  const missing = await runCli(['config', 'show', '--host', 'nohost', ...endpoints(t)]);
  t.is(missing.code, 1);
  t.is(missing.err, 'spp config show: host nohost has no configuration (/spp/openstack/configuration/nohost does not exist)\n');
});

test.serial('status shows hosts, ports with bind info, agent liveness, and bad values with their error', async (t) => {
  const { client } = t.context;
  t.is((await runCli(['config', 'build', '--host', 'st1', '--mappings', SEED, ...endpoints(t)])).code, 0);
  await client.put(keys.vhost('st1', 'phys2', 3)).value(PORT);
  await client.put(keys.bindPort('st1', PORT)).value('{"vhost_id": 3, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 100}');
  await client.put(keys.action('st1', PORT)).value('plug');
  await client.put(keys.portStatus('st1', PORT)).value('error: vlan 100 is not allowed');
  await client.put(keys.bindPort('st1', 'broken')).value('{"vhost_id": 0');
  await client.put(keys.agent('st1')).value('{"version": "0.1.0", "started_at": "2026-11-24T18:00:00Z", "pid": 77}');

  const r = await runCli(['status', '--host', 'st1', ...endpoints(t)]);
  t.is(r.code, 0, r.err);
  t.true(r.out.includes('host st1: agent alive (pid 77, version 0.1.0, started 2026-11-24T18:00:00Z)'));
  t.true(r.out.includes(`  3      phys2             ${PORT}  fa:16:3e:a0:da:db vlan 100  plug    error: vlan 100 is not allowed`));
  t.true(r.out.includes('    broken  INVALID  -       -'));
  t.regex(r.out, /- \/spp\/openstack\/bind_port\/st1\/broken: not valid JSON \(.*\): "\{\\"vhost_id\\": 0"/);
  t.false(r.out.includes('host c1'), 'only the asked host');

  const all = await runCli(['status', ...endpoints(t)]);
  t.is(all.code, 0);
  t.regex(all.out, /^\/spp at revision \d+: \d+ host\(s\)\n/);
  t.true(all.out.includes('host st1: agent alive'));
  t.true(all.out.includes('host s1: agent not running (no key /spp/openstack/agent/s1)'));

  const json = JSON.parse((await runCli(['status', '--host', 'st1', '--format', 'json', ...endpoints(t)])).out);
  t.is(json.hosts[0].agentAlive, true);
  t.is(json.hosts[0].ports.find((p: { portId: string }) => p.portId === 'broken').bindPort.ok, false);

  const none = await runCli(['status', '--host', 'ghost', ...endpoints(t)]);
  t.is(none.code, 1);
  t.is(none.err, 'spp status: no keys for host ghost under /spp/openstack/\n');
});

test.serial('usage errors exit 2 and point to --help', async (t) => {
  const noHost = await runCli(['config', 'build', '--mappings', SEED]);
  t.is(noHost.code, 2);
  t.is(noHost.err, 'spp config build: --host is required (see `spp config build --help`)\n');
  const noMappings = await runCli(['config', 'build', '--host', 'h']);
  t.is(noMappings.code, 2);
  t.true(noMappings.err.startsWith('spp config build: --mappings (or env DPDK_PORT_MAPPINGS) is required'));
  const badFormat = await runCli(['status', '--format', 'yaml']);
  t.is(badFormat.code, 2);
  t.true(badFormat.err.startsWith('spp status: --format must be one of text, json, got "yaml"'));
  const slash = await runCli(['config', 'destroy', '--host', 'a/b']);
  t.is(slash.code, 2);
});

test.serial('every command has --help with its summary and options', async (t) => {
  for (const path of [['config', 'build'], ['config', 'destroy'], ['config', 'show'], ['status']]) {
    const r = await runCli([...path, '--help']);
    t.is(r.code, 0);
    t.true(r.out.startsWith(`usage: spp ${path.join(' ')} [options]\n`), path.join(' '));
    t.true(r.out.includes('--etcd-endpoints LIST'));
  }
  t.true((await runCli(['config', 'build', '--help'])).out.includes('--lenient-limits'));
});

test.serial('an unreachable etcd gives a message naming the endpoints, exit 1', async (t) => {
  const port = await freePort();
  const r = await runCli(['status', '--etcd-endpoints', `127.0.0.1:${port}`]);
  t.is(r.code, 1);
  t.true(r.err.startsWith(`spp status: cannot reach etcd at 127.0.0.1:${port}: `), r.err);
  t.true(r.err.includes('Check --etcd-endpoints / SPP_ETCD_ENDPOINTS and that etcd is running.'));
  t.false(r.err.includes('    at '), 'no stack trace');
});

test.serial('an etcd that accepts connections but never answers fails at the call deadline', async (t) => {
  const sockets: import('node:net').Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as import('node:net').AddressInfo;
  const r = await runCli(['config', 'build', '--host', 'h', '--mappings', SEED, '--etcd-endpoints', `127.0.0.1:${port}`]);
  t.is(r.code, 1);
  t.true(r.err.startsWith(`spp config build: cannot reach etcd at 127.0.0.1:${port}`), r.err);
});

test('the compiled binary runs: node bin/spp.js --help', (t) => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'spp.js'), '--help'], { encoding: 'utf8', timeout: 30_000 });
  t.is(r.status, 0, r.stderr);
  t.true(r.stdout.includes('config build'));
  t.true(r.stdout.includes('status'));
});
