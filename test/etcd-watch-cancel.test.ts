/**
 * A watch that etcd cancelled (its start revision was compacted) must not be
 * cancelled again from our side: with etcd3 1.1.2 that kills the process
 * (src/etcd/watch-cancel.ts). Here against a real etcd, with a second,
 * healthy watch sharing the client's watch stream, as the agent's range
 * watchers do.
 */
import anyTest, { type TestFn } from 'ava';
import { cancellable } from '../src/etcd/watch-cancel';
import { type EtcdContext, useEtcd } from './helpers/etcd';
import { sleep } from './helpers/wait';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

test('cancelling a watch etcd already cancelled for compaction leaves the process and the other watches alive', async (t) => {
  const { client } = t.context;
  const healthy = await client.watch().prefix('/healthy/').create();
  t.teardown(() => healthy.cancel());
  for (let i = 0; i < 5; i++) await client.put(`/old/${i}`).value(String(i));
  const revision = Number((await client.get('/old/4').exec()).header.revision);
  await client.kv.compact({ revision, physical: true });

  const compacted = cancellable(client.watch().prefix('/old/').startRevision('2').watcher());
  const err = await new Promise<Error>((resolve) => compacted.watcher.once('error', resolve));
  t.regex(err.message, /compacted|canceled/i);
  await compacted.cancel();

  // the shared stream still delivers, and nothing was thrown from etcd3's handlers meanwhile (ava fails the file on an uncaught exception)
  const seen = new Promise<string>((resolve) => healthy.once('put', (kv) => resolve(kv.value.toString())));
  await client.put('/healthy/x').value('still watching');
  t.is(await seen, 'still watching');
  await sleep(300);
});
