/**
 * `spp tap create|delete|list` against a real etcd: what the TaaS service
 * driver writes (tap_info then tap_action, mirrors by compare-and-swap in
 * key order), the BOTH rollback, each refusal with its exit code, the wait
 * for tap_status, and the listing.
 */
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import type { Etcd3 } from 'etcd3';
import { claimMirror, createTap, TAP_EXIT_CODES, tapRows } from '../src/driver';
import { keys, prefixes } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { dump, type EtcdContext, useEtcd } from './helpers/etcd';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const SERVICE = '2b1c0d7e-0000-4000-8000-00000000000a';
const SOURCE = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const TF = '5e6a9c1f-1111-4000-8000-0000000000f1';
const BIND = '{"vhost_id": 0, "mac_address": "fa:16:3e:a0:da:db"}';

/** A host with both ports bound and `mirrors` mirror keys (values: None or an owner). */
async function seed(client: Etcd3, host: string, mirrors: Record<number, string>, ports = [SERVICE, SOURCE]): Promise<void> {
  for (const p of ports) await client.put(keys.bindPort(host, p)).value(BIND);
  for (const [id, owner] of Object.entries(mirrors)) await client.put(keys.mirror(host, Number(id))).value(owner);
}

const free = (...ids: number[]): Record<number, string> => Object.fromEntries(ids.map((i) => [i, 'None']));

async function hostKeys(client: Etcd3, host: string): Promise<Record<string, string>> {
  const all = await dump(client, '/spp/openstack/');
  return Object.fromEntries(Object.entries(all).filter(([k]) => k.split('/')[4] === host && !k.includes('/bind_port/')));
}

function tap(t: ExecutionContext<EtcdContext>, sub: string, args: string[]): ReturnType<typeof runCli> {
  return runCli(['tap', sub, ...args, '--etcd-endpoints', t.context.etcd.endpoint]);
}
const createArgs = (host: string, direction: string, extra: string[] = [], tf = TF): string[] => [
  '--host',
  host,
  '--tap-flow-id',
  tf,
  '--service-port',
  SERVICE,
  '--source-port',
  SOURCE,
  '--direction',
  direction,
  ...extra,
];

/** A stand-in for the agent's tap_action handling: answers plug with `status`, and unplug by freeing the mirrors and deleting the flow's keys. */
async function fakeAgent(t: ExecutionContext<EtcdContext>, host: string, status: string | null = 'up'): Promise<void> {
  const { client } = t.context;
  const w = await client.watch().prefix(prefixes.tapActionOfHost(host)).create();
  t.teardown(() => w.cancel());
  w.on('put', (kv) => {
    const tf = kv.key.toString().slice(prefixes.tapActionOfHost(host).length);
    void (async () => {
      if (kv.value.toString() === 'plug') {
        if (status !== null) await client.put(keys.tapStatus(host, tf)).value(status);
        return;
      }
      const info = JSON.parse((await client.get(keys.tapInfo(host, tf)).string()) ?? '{}') as Record<string, number | null>;
      for (const m of [info.mirror_in, info.mirror_out]) if (typeof m === 'number') await client.put(keys.mirror(host, m)).value('None');
      for (const k of [keys.tapInfo(host, tf), keys.tapAction(host, tf), keys.tapStatus(host, tf)]) await client.delete().key(k);
    })();
  });
}

test('create IN claims the first free mirror in etcd key order (0, 1, 10, 2), then writes tap_info and tap_action = plug', async (t) => {
  const { client } = t.context;
  await seed(client, 'tin', { 0: 'other-flow', 1: 'None', 2: 'None', 10: 'None' });
  // 0 and 1 are claimed: the next in key order is 10, not 2
  await client.put(keys.mirror('tin', 1)).value('racing-flow');
  const run = await tap(t, 'create', createArgs('tin', 'IN'));
  t.is(run.code, 0, run.err);
  t.regex(run.out, /tap flow .* requested on tin \(mirror_in 10, mirror_out -\)/);
  t.deepEqual(await hostKeys(client, 'tin'), {
    '/spp/openstack/mirror/tin/0': 'other-flow',
    '/spp/openstack/mirror/tin/1': 'racing-flow',
    '/spp/openstack/mirror/tin/10': TF,
    '/spp/openstack/mirror/tin/2': 'None',
    [keys.tapAction('tin', TF)]: 'plug',
    [keys.tapInfo('tin', TF)]: `{"service_port": "${SERVICE}", "source_port": "${SOURCE}", "mirror_in": 10, "mirror_out": null}`,
  });
  // tap_info is written before tap_action
  const info = await client.get(keys.tapInfo('tin', TF)).exec();
  const action = await client.get(keys.tapAction('tin', TF)).exec();
  t.true(Number(info.kvs[0]!.create_revision) < Number(action.kvs[0]!.create_revision));
});

test('create OUT and BOTH: OUT alone fills mirror_out; BOTH takes two mirrors, IN first', async (t) => {
  const { client } = t.context;
  await seed(client, 'tboth', free(0, 1, 2));
  t.is((await tap(t, 'create', createArgs('tboth', 'OUT', [], 'flow-out'))).code, 0);
  const both = await tap(t, 'create', createArgs('tboth', 'BOTH', ['--format', 'json'], 'flow-both'));
  t.is(both.code, 0, both.err);
  t.deepEqual((JSON.parse(both.out) as { tapInfo: unknown }).tapInfo, { service_port: SERVICE, source_port: SOURCE, mirror_in: 1, mirror_out: 2 });
  t.is(
    await client.get(keys.tapInfo('tboth', 'flow-out')).string(),
    `{"service_port": "${SERVICE}", "source_port": "${SOURCE}", "mirror_in": null, "mirror_out": 0}`,
  );
  t.deepEqual(await Promise.all([0, 1, 2].map((i) => client.get(keys.mirror('tboth', i)).string())), ['flow-out', 'flow-both', 'flow-both']);
});

test('BOTH with one free mirror: refused (no mirror free, exit 5), the IN mirror put back to None, nothing else written', async (t) => {
  const { client } = t.context;
  await seed(client, 'troll', { 0: 'busy', 1: 'None' });
  const before = await hostKeys(client, 'troll');
  const run = await tap(t, 'create', createArgs('troll', 'BOTH'));
  t.is(run.code, TAP_EXIT_CODES.no_mirror_free);
  t.is(run.code, 5);
  t.regex(run.err, /no mirror free for tap flow .*: every mirror of troll is claimed \(0: busy, 1: 5e6a.*\); mirror 1 claimed for IN was given back/);
  t.deepEqual(await hostKeys(client, 'troll'), before);
  // the put back was a plain put: mirror 1's value was written again
  const kv = (await client.get(keys.mirror('troll', 1)).exec()).kvs[0]!;
  t.true(Number(kv.version) >= 3, `version ${kv.version}: claimed then freed`);
});

test('each refusal has its own exit code and names the cause', async (t) => {
  const { client } = t.context;
  // the source port not bound on the host
  await seed(client, 'rsrc', free(0), [SERVICE]);
  let run = await tap(t, 'create', createArgs('rsrc', 'IN'));
  t.deepEqual([run.code, run.err.trim()], [3, `spp tap create: source port ${SOURCE} is not bound on host rsrc (${keys.bindPort('rsrc', SOURCE)} is missing)`]);
  // the service port bound nowhere
  await seed(client, 'rsvc', free(0), [SOURCE]);
  run = await tap(
    t,
    'create',
    createArgs('rsvc', 'IN', [], 'flow-x').map((a) => (a === SERVICE ? 'never-bound' : a)),
  );
  t.is(run.code, TAP_EXIT_CODES.not_bound);
  t.regex(run.err, /service port never-bound is not bound on any host/);
  // the service port bound on another host
  await client.put(keys.bindPort('elsewhere', 'svc-elsewhere')).value(BIND);
  run = await tap(
    t,
    'create',
    createArgs('rsvc', 'IN').map((a) => (a === SERVICE ? 'svc-elsewhere' : a)),
  );
  t.is(run.code, TAP_EXIT_CODES.not_same_host);
  t.is(run.code, 4);
  t.regex(run.err, /service port svc-elsewhere is bound on elsewhere, not on rsvc, the source port's host/);
  // no mirror configured
  await seed(client, 'rnone', {});
  run = await tap(t, 'create', createArgs('rnone', 'OUT'));
  t.is(run.code, 5);
  t.regex(run.err, /host rnone has no mirror keys .* no spp_mirror is configured there/);
  // every mirror claimed
  await seed(client, 'rfull', { 0: 'a', 1: 'b' });
  run = await tap(t, 'create', createArgs('rfull', 'IN'));
  t.is(run.code, 5);
  t.regex(run.err, /every mirror of rfull is claimed \(0: a, 1: b\)/);
  // the same flow twice
  await seed(client, 'rtwice', free(0, 1));
  t.is((await tap(t, 'create', createArgs('rtwice', 'IN'))).code, 0);
  run = await tap(t, 'create', createArgs('rtwice', 'IN'));
  t.is(run.code, TAP_EXIT_CODES.already_exists);
  t.is(await client.get(keys.mirror('rtwice', 1)).string(), 'None', 'the second create claimed nothing');
  // bad input: usage error before etcd
  run = await tap(t, 'create', createArgs('rtwice', 'SIDEWAYS'));
  t.is(run.code, 2);
  run = await tap(t, 'create', createArgs('rtwice', 'IN', [], 'None'));
  t.is(run.code, 2);
  t.regex(run.err, /tap flow id "None" cannot own a mirror/);
  // refusals wrote nothing on the refused hosts
  for (const h of ['rsrc', 'rsvc', 'rnone', 'rfull'])
    t.deepEqual(
      Object.keys(await hostKeys(client, h)).filter((k) => k.includes('/tap_')),
      [],
      h,
    );
});

test('--wait: up from a fast agent is not missed; a timeout (exit 7) and an agent error (exit 8) leave the flow created', async (t) => {
  const { client } = t.context;
  await seed(client, 'wup', free(0));
  await fakeAgent(t, 'wup');
  let run = await tap(t, 'create', createArgs('wup', 'IN', ['--wait', '--timeout', '10']));
  t.is(run.code, 0, run.err);
  t.regex(run.out, /tap flow .* is up on wup \(mirror_in 0, mirror_out -\)/);

  await seed(client, 'wslow', free(0));
  await fakeAgent(t, 'wslow', null);
  run = await tap(t, 'create', createArgs('wslow', 'IN', ['--wait', '--timeout', '0.3']));
  t.is(run.code, TAP_EXIT_CODES.timeout);
  t.regex(run.err, /timeout: no tap_status from the agent on wslow .* within 300 ms; the tap flow stays created/);
  t.is(await client.get(keys.tapAction('wslow', TF)).string(), 'plug');

  await seed(client, 'werr', free(0));
  await fakeAgent(t, 'werr', 'error: bad value(port rxtx)');
  run = await tap(t, 'create', createArgs('werr', 'IN', ['--wait', '--timeout', '10']));
  t.is(run.code, TAP_EXIT_CODES.agent_error);
  t.regex(run.err, /agent on werr failed to plug tap flow .*: bad value\(port rxtx\)/);

  // a tap_status left from before our plug is not the answer
  await seed(client, 'wold', free(0));
  await client.put(keys.tapStatus('wold', TF)).value('up');
  run = await tap(t, 'create', createArgs('wold', 'IN', ['--wait', '--timeout', '0.3']));
  t.is(run.code, TAP_EXIT_CODES.timeout);
});

test('delete: nothing to delete without tap_action; otherwise tap_action = unplug; --wait until the agent removed the flow', async (t) => {
  const { client } = t.context;
  const del = ['--host', 'del', '--tap-flow-id', TF];
  let run = await tap(t, 'delete', del);
  t.is(run.code, 0);
  t.regex(run.out, /nothing to delete: tap flow .* has no tap_action on del/);
  t.deepEqual(await hostKeys(client, 'del'), {}, 'nothing written');

  await seed(client, 'del', free(0, 1));
  t.is((await tap(t, 'create', createArgs('del', 'BOTH'))).code, 0);
  run = await tap(t, 'delete', del);
  t.is(run.code, 0);
  t.regex(run.out, /unplug requested/);
  t.is(await client.get(keys.tapAction('del', TF)).string(), 'unplug');

  await fakeAgent(t, 'del');
  run = await tap(t, 'delete', [...del, '--wait', '--timeout', '10']);
  t.is(run.code, 0, run.err);
  t.regex(run.out, /tap flow .* deleted on del/);
  t.deepEqual(await hostKeys(client, 'del'), { '/spp/openstack/mirror/del/0': 'None', '/spp/openstack/mirror/del/1': 'None' });

  await seed(client, 'delslow', free(0));
  t.is((await tap(t, 'create', createArgs('delslow', 'IN'))).code, 0);
  run = await tap(t, 'delete', ['--host', 'delslow', '--tap-flow-id', TF, '--wait', '--timeout', '0.3']);
  t.is(run.code, 7);
  t.regex(run.err, /did not remove tap flow .* still present: .*tap_info\/delslow/);
});

test('two creates racing for the last mirror: exactly one gets it (compare-and-swap)', async (t) => {
  const { client } = t.context;
  await seed(client, 'race', free(0));
  const base = { host: 'race', servicePort: SERVICE, sourcePort: SOURCE, direction: 'IN' as const };
  const results = await Promise.allSettled([createTap(client, { ...base, tapFlowId: 'one' }), createTap(client, { ...base, tapFlowId: 'two' })]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  t.is(results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'no_mirror_free').length, 1);
  const owner = await client.get(keys.mirror('race', 0)).string();
  t.true(owner === 'one' || owner === 'two');
  t.true(await client.get(keys.tapInfo('race', owner!)).exists());
  // a mirror this flow already owns (a create interrupted before tap_info) is taken again, not leaked
  await seed(client, 'resume', { 0: 'None', 1: 'half' });
  t.is(await claimMirror(client, 'resume', 'half', []), 1);
});

test('list: one row per flow with direction, mirrors, action and status; half-created and inconsistent flows show their problem', async (t) => {
  const { client } = t.context;
  await seed(client, 'lst', free(0, 1, 2, 3));
  t.is((await tap(t, 'create', createArgs('lst', 'BOTH', [], 'flow-a'))).code, 0);
  await client.put(keys.tapStatus('lst', 'flow-a')).value('up');
  await client.put(keys.mirror('lst', 2)).value('flow-half');
  await client.put(keys.tapInfo('lst', 'flow-bad')).value('{"service_port": "s", "source_port": "p", "mirror_in": "3", "mirror_out": null}');
  const run = await tap(t, 'list', ['--host', 'lst']);
  t.is(run.code, 0, run.err);
  const lines = run.out.split('\n');
  t.regex(lines[0]!, /^HOST\s+TAP FLOW\s+DIR\s+SERVICE PORT\s+SOURCE PORT\s+IN\s+OUT\s+ACTION\s+STATUS$/);
  t.regex(run.out, new RegExp(`lst\\s+flow-a\\s+BOTH\\s+${SERVICE}\\s+${SOURCE}\\s+0\\s+1\\s+plug\\s+up`));
  t.regex(run.out, /lst flow-half mirror: mirror 2 claimed by this flow, but it has no tap_info/);
  t.regex(run.out, /lst flow-bad tap_info: .*mirror_in/);
  const json = JSON.parse((await tap(t, 'list', ['--host', 'lst', '--format', 'json'])).out) as { tapFlowId: string; direction: string | null }[];
  t.deepEqual(
    json.map((r) => [r.tapFlowId, r.direction]),
    [
      ['flow-a', 'BOTH'],
      ['flow-bad', null],
      ['flow-half', null],
    ],
  );
  t.is((await tap(t, 'list', ['--host', 'nobody-here'])).out, 'no tap flows\n');
  // pure: the same rows from a listing, other hosts filtered out
  t.deepEqual(
    tapRows({ [keys.tapInfo('x', 'f')]: '{"service_port": "s", "source_port": "p", "mirror_in": null, "mirror_out": 4}', [keys.mirror('x', 4)]: 'f' }, 'x'),
    [{ host: 'x', tapFlowId: 'f', servicePort: 's', sourcePort: 'p', direction: 'OUT', mirrorIn: null, mirrorOut: 4, action: null, status: null, errors: {} }],
  );
});
