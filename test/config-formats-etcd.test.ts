import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { bindPort } from '../src/driver';
import { keys } from '../src/protocol/keys';
import { parseYamlSubset } from '../src/setup/yaml-subset';
import { runCli } from './helpers/cli';
import { dump, type EtcdContext, useEtcd, withEtcd } from './helpers/etcd';
import { FakeAgentPeer } from './helpers/fake-agent-peer';
import { EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML, EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML } from './helpers/upstream-layouts';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';
const LEGACY_ONE = '[{"pci_address": "00:04.0", "physical_network": "phys1", "num_vhost": 1, "core_mask": "0x3e"}]';

test('config build writes the final object by default, with components as the final script computes them', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    const r = await runCli(['config', 'build', '--host', 'spp4', '--mappings', SEED, '--etcd-endpoints', etcd.endpoint]);
    t.is(r.code, 0, r.err);
    t.regex(r.out, /format: final: the final object \(no host in etcd yet\); read by the networking-spp driver from e7ea292 on/);
    const value = JSON.parse((await dump(client))[keys.configuration('spp4')]!) as { vf: { components: { name: string; core: number; type: string }[] }[] };
    t.deepEqual(Object.keys(value), ['vf']);
    t.is(value.vf.length, 2);
    t.deepEqual(
      value.vf[1]!.components.map((c) => `${c.name}:${c.type}@${c.core}`),
      [
        'forward_2_tx:forward@10',
        'forward_2_rx:forward@11',
        'forward_3_tx:forward@12',
        'forward_3_rx:forward@13',
        'classifier:classifier_mac@14',
        'merger:merge@15',
      ],
    );
    // config show says the format and each NIC's core budget
    const show = await runCli(['config', 'show', '--host', 'spp4', '--etcd-endpoints', etcd.endpoint]);
    t.is(show.code, 0, show.err);
    t.regex(show.out, /format: +final: read by the networking-spp driver from e7ea292 on/);
    t.regex(show.out, /cores: 6 of 6 worker core\(s\) of mask 0xfc02 used \(10-15\), components as configured; the default layout costs 6 \(2n\+2\)/);
  });
});

test('config build keeps to the format the other hosts use and says so; --config-format overrides', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    await client.put(keys.configuration('old')).value(LEGACY_ONE);
    const ep = ['--etcd-endpoints', etcd.endpoint];
    const r = await runCli(['config', 'build', '--host', 'new', '--mappings', SEED, ...ep]);
    t.is(r.code, 0, r.err);
    t.regex(r.out, /format: legacy: the c33920f array, as the other hosts in etcd \(old\) use/);
    t.true((await client.get(keys.configuration('new')).string())!.startsWith('[{"pci_address"'));
    const forced = await runCli(['config', 'build', '--host', 'new', '--mappings', SEED, '--config-format', 'final', ...ep]);
    t.is(forced.code, 0, forced.err);
    t.regex(forced.out, /format: final: --config-format final/);
    // c33920f's layout to the final one: forward_<v>_tx becomes merge, which a running spp_vf takes only when it restarts
    t.regex(forced.err, /warning: NIC 0: its spp_vf layout changes \(components, cores or types\); restart spp_vf 1 after this/);
    t.regex(forced.err, /warning: NIC 1: its spp_vf layout changes .* restart spp_vf 2/);
    const again = await runCli(['config', 'build', '--host', 'new', '--mappings', SEED, '--config-format', 'final', ...ep]);
    t.is(again.err, '', 'the same layout again: no warning');
    t.true((await client.get(keys.configuration('new')).string())!.startsWith('{"vf": '));
    const bad = await runCli(['config', 'build', '--host', 'new', '--mappings', SEED, '--config-format', 'json', ...ep]);
    t.is(bad.code, 2);
    t.regex(bad.err, /--config-format: "json" is not one of final, legacy/);
  });
});

test('--dry-run prints the value and the keys, and writes nothing', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    const r = await runCli(['config', 'build', '--host', 'dry', '--mappings', '00:04.0#phys1#1#0x3e', '--dry-run', '--etcd-endpoints', etcd.endpoint]);
    t.is(r.code, 0, r.err);
    t.regex(
      r.out,
      /dry run: nothing written\nconfiguration value: \{"vf": \[\{"physical_network": "phys1", "pci_address": "00:04.0", "num_vhost": 1, "core_mask": "0x3e", "components": \[\{"core": 2, "type": "forward", "name": "forward_0_tx"/,
    );
    t.regex(r.out, /would put \/spp\/openstack\/configuration\/dry\nwould put \/spp\/openstack\/vhost\/dry\/phys1\/0\n/);
    t.deepEqual(await dump(client), {});
  });
});

test('--help says which driver version reads which format', async (t) => {
  const r = await runCli(['config', 'build', '--help']);
  t.is(r.code, 0);
  t.regex(r.out, /final +\{"vf": .*read by the networking-spp driver from e7ea292 on/);
  t.regex(r.out, /legacy +\[\{\.\.\.\}, \.\.\.\]: read by the networking-spp driver up to c33920f/);
});

test('a mirror list in etcd is kept by a final rewrite and refused by a legacy one', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    const ep = ['--etcd-endpoints', etcd.endpoint];
    const withMirror =
      '{"vf": [{"physical_network": "phys1", "pci_address": "00:04.0", "num_vhost": 1, "core_mask": "0x3e"}], "mirror": [{"core": 16, "ports": ["ring:2", "ring:3"]}]}';
    await client.put(keys.configuration('tap')).value(withMirror);
    const r = await runCli(['config', 'build', '--host', 'tap', '--mappings', '00:04.0#phys1#1#0x3e', ...ep]);
    t.is(r.code, 0, r.err);
    const after = JSON.parse((await client.get(keys.configuration('tap')).string())!) as { mirror: unknown };
    t.deepEqual(after.mirror, [{ core: 16, ports: ['ring:2', 'ring:3'] }]);
    const before = await dump(client);
    const legacy = await runCli(['config', 'build', '--host', 'tap', '--mappings', '00:04.0#phys1#1#0x3e', '--config-format', 'legacy', ...ep]);
    t.is(legacy.code, 1);
    t.regex(legacy.err, /configuration\/tap has a "mirror" list .* that the c33920f array cannot hold; write the final shape/);
    t.deepEqual(await dump(client), before, 'nothing written');
  });
});

test('spp port bind finds the physical networks of a final-format host', async (t) => {
  const { client } = t.context;
  await runCli(['config', 'build', '--host', 'fin', '--mappings', SEED, '--config-format', 'final', '--etcd-endpoints', t.context.etcd.endpoint]);
  const peer = await FakeAgentPeer.start(client, { host: 'fin' });
  t.teardown(() => peer.stop());
  const r = await bindPort(client, { host: 'fin', portId: 'p-final', mac: 'fa:16:3e:00:00:01', physicalNetwork: 'phys2' });
  t.is(r.vhost_id, 2);
  const wrong = await t.throwsAsync(bindPort(client, { host: 'fin', portId: 'p-x', mac: 'fa:16:3e:00:00:02', physicalNetwork: 'phys9' }));
  t.regex(wrong!.message, /its physical networks are: phys1, phys2/);
  await client.put(keys.configuration('neither')).value('{"nics": []}');
  await client.put(keys.agent('neither')).value('{}');
  const neither = await t.throwsAsync(bindPort(client, { host: 'neither', portId: 'p-y', mac: 'fa:16:3e:00:00:03', physicalNetwork: 'phys1' }));
  t.regex(neither!.message, /configuration\/neither: must be a JSON array of NIC objects .* or a JSON object \{"vf": /);
});

test('--components builds both upstream examples (yaml and JSON); errors name NIC, component and field; config show prints the core budget', async (t) => {
  await withEtcd(t, async (etcd, client) => {
    const dir = await mkdtemp(join(__dirname, 'components-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const ep = ['--etcd-endpoints', etcd.endpoint];
    const ex2 = join(dir, 'sample_2.yaml');
    await writeFile(ex2, EXAMPLE_2_YAML);
    const r = await runCli(['config', 'build', '--host', 'ex2', '--mappings', EXAMPLE_2_MAPPINGS, '--components', ex2, ...ep]);
    t.is(r.code, 0, r.err);
    const stored = JSON.parse((await client.get(keys.configuration('ex2')).string())!) as { vf: { components: { name: string }[] }[] };
    t.deepEqual(
      stored.vf.map((v) => v.components.map((c) => c.name)),
      [
        ['classifier', 'merger'],
        ['classifier', 'merger'],
      ],
    );
    const show = await runCli(['config', 'show', '--host', 'ex2', ...ep]);
    t.regex(show.out, /cores: 2 of 2 worker core\(s\) of mask 0xc2 used \(6-7\), components as configured; the default layout costs 6 \(2n\+2\)/);

    const ex1 = join(dir, 'sample_1.json');
    await writeFile(ex1, JSON.stringify(parseYamlSubset(EXAMPLE_1_YAML)));
    const refused = await runCli(['config', 'build', '--host', 'ex1', '--mappings', EXAMPLE_1_MAPPINGS, '--components', ex1, ...ep]);
    t.is(refused.code, 1);
    t.regex(
      refused.err,
      /NIC 0 \(00:04\.0\): core 2 hosts forward_0_tx \(merge, declared forward: .*\), forward_0_rx \(forward\); spp_vf before 18\.08\.2 refuses/,
    );
    t.is(await client.get(keys.configuration('ex1')).string(), null);
    const mixed = await runCli(['config', 'build', '--host', 'ex1', '--mappings', EXAMPLE_1_MAPPINGS, '--components', ex1, '--mixed-core-types', ...ep]);
    t.is(mixed.code, 0, mixed.err);
    const legacy = await runCli([
      'config',
      'build',
      '--host',
      'ex1',
      '--mappings',
      EXAMPLE_1_MAPPINGS,
      '--components',
      ex1,
      '--config-format',
      'legacy',
      ...ep,
    ]);
    t.is(legacy.code, 1);
    t.regex(legacy.err, /declared layouts \(--components\) need the final shape/);

    const wrongCore = join(dir, 'bad.yaml');
    await writeFile(wrongCore, EXAMPLE_2_YAML.replace('core: 7', 'core: 9'));
    const bad = await runCli(['config', 'build', '--host', 'bad', '--mappings', EXAMPLE_2_MAPPINGS, '--components', wrongCore, ...ep]);
    t.is(bad.code, 1);
    t.regex(bad.err, /NIC 0 \(00:04\.0\): component 1 \("merger"\) field core: 9 is not in core mask 0xc2 \(worker cores 6,7\)/);
  });
});
