import test from 'ava';
import { Etcd3 } from 'etcd3';
import { LocalEtcd } from '../src/localetcd/etcd-server';

test('a local etcd serves puts and gets on loopback, and survives a member restart', async (t) => {
  const etcd = await LocalEtcd.start();
  t.teardown(() => etcd.stop());
  t.regex(etcd.endpoint, /^127\.0\.0\.1:\d+$/);
  const client = new Etcd3({ hosts: `http://${etcd.endpoint}` });
  t.teardown(() => client.close());
  await client.put('/spp/x').value('1');
  t.is(await client.get('/spp/x').string(), '1');
  await etcd.stopMember('m0');
  await etcd.startMember('m0');
  t.is(await client.get('/spp/x').string(), '1');
});
