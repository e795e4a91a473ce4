/**
 * `spp config build --mirrors N#MASK` (SPP_MIRROR), the mirror keys it
 * writes and keeps, `config destroy` removing them, and `config show`
 * listing them, against a real etcd.
 */
import anyTest, { type TestFn } from 'ava';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { dump, type EtcdContext, useEtcd } from './helpers/etcd';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

// NIC 0 occupies cores 2-7, NIC 1 cores 10-15, both masters on core 1; 4 vhosts in all
const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';
const ep = (t: { context: EtcdContext }) => ['--etcd-endpoints', t.context.etcd.endpoint];
const build = (t: { context: EtcdContext }, host: string, ...extra: string[]) =>
  runCli(['config', 'build', '--host', host, '--mappings', SEED, '--config-format', 'final', ...extra, ...ep(t)]);
const mirrorOf = async (t: { context: EtcdContext }, host: string): Promise<unknown> =>
  (JSON.parse((await t.context.client.get(keys.configuration(host)).string())!) as { mirror?: unknown }).mirror;
/** Every key of one host (the hosts of concurrent tests differ). */
const hostKeys = async (t: { context: EtcdContext }, host: string): Promise<Record<string, string>> =>
  Object.fromEntries(Object.entries(await dump(t.context.client, '/spp/')).filter(([k]) => k.split('/')[4] === host));

test('--mirrors 2#0x30002 declares mirrors on cores 16 and 17 with the rings after the 4 vhosts, and free mirror keys', async (t) => {
  const r = await build(t, 'm1', '--mirrors', '2#0x30002');
  t.is(r.code, 0, r.err);
  t.deepEqual(await mirrorOf(t, 'm1'), [
    { core: 16, ports: ['ring:8', 'ring:9'] },
    { core: 17, ports: ['ring:10', 'ring:11'] },
  ]);
  const all = await hostKeys(t, 'm1');
  t.is(all[keys.mirror('m1', 0)], 'None');
  t.is(all[keys.mirror('m1', 1)], 'None');
  t.false(keys.mirror('m1', 2) in all);
  t.regex(r.out, /^mirror 1: core 17, rings ring:10 ring:11$/m);
  t.regex(r.out, /^created \/spp\/openstack\/mirror\/m1\/0 = None$/m);
});

test('SPP_MIRROR is read as --mirrors, the mask without 0x as Python int(x, 16) reads it', async (t) => {
  const r = await runCli(['config', 'build', '--host', 'm2', '--mappings', SEED, '--config-format', 'final', ...ep(t)], { SPP_MIRROR: '1#30002' });
  t.is(r.code, 0, r.err);
  t.deepEqual(await mirrorOf(t, 'm2'), [{ core: 16, ports: ['ring:8', 'ring:9'] }]);
  t.is((await hostKeys(t, 'm2'))[keys.mirror('m2', 0)], 'None');
});

test('mirror cores on a vf component or master, too few cores, a bad value and the legacy format exit 2 naming the cause; nothing written', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--mirrors', '2#0x10006'], /mirror core 2 is occupied by a component of NIC 0 \(00:04\.0, spp_vf 1\)/],
    [
      ['--mirrors', '1#0x3'],
      /mirror core 1 is the master core of NIC 0 \(00:04\.0, spp_vf 1\)[\s\S]*mirror core 1 is the master core of NIC 1 \(00:05\.0, spp_vf 2\)/,
    ],
    [['--mirrors', '1#0x802'], /mirror core 11 is occupied by a component of NIC 1 \(00:05\.0, spp_vf 2\)/],
    [['--mirrors', '3#0x30002'], /mirror core mask 0x30002 has 2 worker core\(s\) \(the lowest, 1, is the master\) for 3 mirror\(s\)/],
    [['--mirrors', '2'], /--mirrors "2": must be <num_mirror>#<core_mask>/],
    [['--mirrors', '0#0x30002'], /the number of mirrors "0" is not an integer >= 1/],
    [['--mirrors', '1#0xzz'], /the core mask "0xzz" is not a hex mask/],
  ];
  for (const [extra, why] of cases) {
    const r = await build(t, 'bad', ...extra);
    t.is(r.code, 2, `${extra.join(' ')}: ${r.err}`);
    t.regex(r.err, /nothing written/);
    t.regex(r.err, why);
  }
  const legacy = await runCli(['config', 'build', '--host', 'bad', '--mappings', SEED, '--config-format', 'legacy', '--mirrors', '1#0x10002', ...ep(t)]);
  t.is(legacy.code, 2);
  t.regex(legacy.err, /--mirrors needs the final format: the c33920f array \(--config-format legacy\) has no "mirror" list/);
  t.deepEqual(await hostKeys(t, 'bad'), {});
});

test('a claimed mirror keeps its tap flow on a rebuild; dropping it is refused unless --force; a free one is dropped', async (t) => {
  const { client } = t.context;
  t.is((await build(t, 'm3', '--mirrors', '3#0x70002')).code, 0);
  await client.put(keys.mirror('m3', 1)).value('tf-1');
  const again = await build(t, 'm3', '--mirrors', '3#0x70002');
  t.is(again.code, 0, again.err);
  t.regex(again.out, /^kept \/spp\/openstack\/mirror\/m3\/1 \(claimed by tap flow tf-1\)$/m);
  t.is(await client.get(keys.mirror('m3', 1)).string(), 'tf-1');

  // without --mirrors the list etcd holds is kept, and with it the claim
  t.is((await build(t, 'm3')).code, 0);
  t.is(((await mirrorOf(t, 'm3')) as unknown[]).length, 3);
  t.is(await client.get(keys.mirror('m3', 1)).string(), 'tf-1');

  const before = await hostKeys(t, 'm3');
  const refused = await build(t, 'm3', '--mirrors', '1#0x10002');
  t.is(refused.code, 1);
  t.regex(refused.err, /\/spp\/openstack\/mirror\/m3\/1 is claimed by tap flow tf-1; the new configuration has 1 mirror\(s\), no mirror 1/);
  t.deepEqual(await hostKeys(t, 'm3'), before, 'nothing written');

  const two = await build(t, 'm3', '--mirrors', '2#0x30002');
  t.is(two.code, 0, two.err);
  t.regex(two.out, /^deleted \/spp\/openstack\/mirror\/m3\/2$/m, 'a free mirror the new list drops is deleted');
  t.is(await client.get(keys.mirror('m3', 1)).string(), 'tf-1');

  const forced = await build(t, 'm3', '--mirrors', '1#0x10002', '--force');
  t.is(forced.code, 0, forced.err);
  t.regex(forced.err, /mirror\/m3\/1 was claimed by tap flow tf-1; removed because of --force/);
  t.is(await client.get(keys.mirror('m3', 1)).string(), null);
  t.is(await client.get(keys.mirror('m3', 0)).string(), 'None');
});

test('--dry-run shows the mirrors and the keys it would write, and writes nothing', async (t) => {
  const r = await build(t, 'm4', '--mirrors', '2#0x30002', '--dry-run');
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^mirror 0: core 16, rings ring:8 ring:9$/m);
  t.regex(r.out, /^would put \/spp\/openstack\/mirror\/m4\/1$/m);
  t.regex(r.out, /"mirror": \[\{"core": 16, "ports": \["ring:8", "ring:9"\]\}/);
  t.deepEqual(await hostKeys(t, 'm4'), {});
  const json = await build(t, 'm4', '--mirrors', '2#0x30002', '--dry-run', '--format', 'json');
  t.is(json.code, 0, json.err);
  t.deepEqual((JSON.parse(json.out) as { mirror: unknown }).mirror, [
    { core: 16, ports: ['ring:8', 'ring:9'] },
    { core: 17, ports: ['ring:10', 'ring:11'] },
  ]);
});

test('config show lists the mirrors with their cores, rings and owners', async (t) => {
  t.is((await build(t, 'm5', '--mirrors', '2#0x30002')).code, 0);
  await t.context.client.put(keys.mirror('m5', 0)).value('tf-show');
  const r = await runCli(['config', 'show', '--host', 'm5', ...ep(t)]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^ {2}0 +mirror_0 +16 +ring:8 +ring:9 +tap flow tf-show +\/spp\/openstack\/mirror\/m5\/0$/m);
  t.regex(r.out, /^ {2}1 +mirror_1 +17 +ring:10 +ring:11 +free +\/spp\/openstack\/mirror\/m5\/1$/m);
  t.regex(r.out, /1 of 2 mirror\(s\) claimed/);
});

test('config destroy removes the mirror keys, refuses while a mirror is claimed, and destroying spp4 never touches spp40', async (t) => {
  const { client } = t.context;
  t.is((await build(t, 'spp4', '--mirrors', '2#0x30002')).code, 0);
  t.is((await build(t, 'spp40', '--mirrors', '2#0x30002')).code, 0);
  await client.put(keys.mirror('spp4', 1)).value('tf-4');
  await client.put(keys.mirror('spp40', 0)).value('tf-40');
  const spp40 = await hostKeys(t, 'spp40');
  t.is(Object.keys(spp40).filter((k) => k.includes('/mirror/')).length, 2);

  const before = await hostKeys(t, 'spp4');
  const refused = await runCli(['config', 'destroy', '--host', 'spp4', ...ep(t)]);
  t.is(refused.code, 1);
  t.regex(refused.err, /mirrors claimed .*\n {2}- tap flow tf-4 claims \/spp\/openstack\/mirror\/spp4\/1\n/);
  t.notRegex(refused.err, /tf-40/);
  t.deepEqual(await hostKeys(t, 'spp4'), before);

  const forced = await runCli(['config', 'destroy', '--host', 'spp4', '--force', ...ep(t)]);
  t.is(forced.code, 0, forced.err);
  t.regex(forced.out, /^deleted \/spp\/openstack\/mirror\/spp4\/0$/m);
  t.deepEqual(await hostKeys(t, 'spp4'), {});
  t.deepEqual(await hostKeys(t, 'spp40'), spp40, "spp40's keys, its claimed mirror among them, are untouched");

  // a free host with mirrors goes without --force
  await client.put(keys.mirror('spp40', 0)).value('None');
  const free = await runCli(['config', 'destroy', '--host', 'spp40', ...ep(t)]);
  t.is(free.code, 0, free.err);
  t.deepEqual(await hostKeys(t, 'spp40'), {});
});
