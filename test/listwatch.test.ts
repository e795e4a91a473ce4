/**
 * The host-scoped list-watch against a real etcd: whatever the watchers of
 * its ranges deliver, and in whatever order, every state it hands on is one
 * etcd really had (a transaction across ranges is seen whole or not at all),
 * and nothing is missed.
 */
import anyTest, { type TestFn } from 'ava';
import type { Subscription } from 'rxjs';
import { type ListWatchEvent, listWatch, type WatchRanges } from '../src/etcd/listwatch';
import { type EtcdContext, useEtcd } from './helpers/etcd';
import { until } from './helpers/wait';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

/** Applies the stream to a map; `check` runs once per synchronous burst, as the controller derives once per burst. */
function follow(
  ranges: WatchRanges,
  t: { context: EtcdContext },
  check: (kv: ReadonlyMap<string, string>) => void,
): { kv: Map<string, string>; bursts: () => number; sub: Subscription } {
  const kv = new Map<string, string>();
  let scheduled = false;
  let bursts = 0;
  const sub = listWatch(t.context.client, ranges).subscribe((ev: ListWatchEvent) => {
    if (ev.type === 'connection') return;
    if (ev.type === 'reset') {
      kv.clear();
      for (const [k, v] of ev.entries) kv.set(k, v.value);
    } else if (ev.type === 'put') kv.set(ev.key, ev.value);
    else kv.delete(ev.key);
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      bursts += 1;
      check(kv);
    });
  });
  return { kv, bursts: () => bursts, sub };
}

test('transactions across three ranges are seen whole: every burst is a state etcd had', async (t) => {
  const { client } = t.context;
  const ranges: WatchRanges = { prefixes: ['/lw/a/', '/lw/b/'], keys: ['/lw/c'] };
  const broken: string[] = [];
  const invariant = (kv: ReadonlyMap<string, string>): void => {
    // every txn writes a/i, b/i and c = i together, and deletes a/j, b/j together
    const a = [...kv.keys()]
      .filter((k) => k.startsWith('/lw/a/'))
      .map((k) => k.slice(6))
      .sort();
    const b = [...kv.keys()]
      .filter((k) => k.startsWith('/lw/b/'))
      .map((k) => k.slice(6))
      .sort();
    const c = kv.get('/lw/c');
    if (a.join() !== b.join() || (c !== undefined && !a.includes(c))) broken.push(`a=${a.join()} b=${b.join()} c=${c}`);
  };
  await client.put('/lw/a/0').value('x');
  await client.put('/lw/b/0').value('x');
  await client.put('/lw/c').value('0');
  const f = follow(ranges, t, invariant);
  t.teardown(() => f.sub.unsubscribe());
  // concurrent writers, so that the watchers' responses interleave
  const txns = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 1; i <= 40; i++) {
      const id = String(w * 100 + i);
      const ops: Array<ReturnType<typeof client.put> | ReturnType<ReturnType<typeof client.delete>['key']>> = [
        client.put(`/lw/a/${id}`).value('x'),
        client.put(`/lw/b/${id}`).value('x'),
        client.put('/lw/c').value(id),
      ];
      if (i > 1) {
        const old = String(w * 100 + i - 1);
        ops.push(client.delete().key(`/lw/a/${old}`), client.delete().key(`/lw/b/${old}`));
      }
      await client
        .if('/lw/c', 'Create', '>', 0)
        .then(...ops)
        .commit();
    }
  });
  await Promise.all(txns);
  const final = await client.getAll().prefix('/lw/').strings();
  await until(
    () => JSON.stringify(Object.fromEntries([...f.kv].sort())) === JSON.stringify(Object.fromEntries(Object.entries(final).sort())),
    () => `convergence: ${JSON.stringify([...f.kv])} vs ${JSON.stringify(final)}`,
  );
  t.deepEqual(broken, [], 'no burst showed half of a transaction');
  t.true(f.bursts() >= 2, `the list and at least one later batch (${f.bursts()} bursts)`);
});

test('a key outside the ranges, even one that extends a range without its slash, is never listed or delivered', async (t) => {
  const { client } = t.context;
  const seen: string[] = [];
  const sub = listWatch(client, { prefixes: ['/lx/h/'], keys: ['/lx/k'] }).subscribe((ev) => {
    if (ev.type === 'reset') seen.push(...ev.entries.map(([k]) => k));
    else if (ev.type !== 'connection') seen.push(ev.key);
  });
  t.teardown(() => sub.unsubscribe());
  await client.put('/lx/h2/x').value('no');
  await client.put('/lx/k2').value('no');
  await client.put('/lx/h/x').value('yes');
  await client.put('/lx/k').value('yes');
  await until(
    () => seen.includes('/lx/k') && seen.includes('/lx/h/x'),
    () => `both keys; saw only ${seen.join(', ')}`,
  );
  t.deepEqual([...new Set(seen)].sort(), ['/lx/h/x', '/lx/k']);
});

test('onWatchEvents sees a watcher event before the snapshot read that holds it is emitted, and changes nothing emitted', async (t) => {
  const { client } = t.context;
  const order: string[] = [];
  let listed = false;
  const sub = listWatch(
    client,
    { prefixes: ['/lw-hook/a/', '/lw-hook/b/'], keys: [] },
    { onWatchEvents: (events) => order.push(...events.map((ev) => `watched ${ev.type} ${ev.key}`)) },
  ).subscribe((ev) => {
    if (ev.type === 'reset') listed = true;
    else if (ev.type !== 'connection') order.push(`emitted ${ev.type} ${ev.key}`);
  });
  t.teardown(() => sub.unsubscribe());
  await until(
    () => listed,
    () => 'the list',
  );
  await client.put('/lw-hook/b/1').value('x');
  await until(
    () => order.includes('emitted put /lw-hook/b/1'),
    () => `the put emitted; saw ${order.join(', ')}`,
  );
  t.deepEqual(order, ['watched put /lw-hook/b/1', 'emitted put /lw-hook/b/1']);
});

/** The stream applied to a map, with every event kept; resolves the map once it equals etcd's keys under `root`. */
function mirror(
  ranges: WatchRanges,
  t: { context: EtcdContext },
): { kv: Map<string, string>; events: string[]; reads: string[]; sub: Subscription; listed: () => boolean } {
  const kv = new Map<string, string>();
  const events: string[] = [];
  const reads: string[] = [];
  let listed = false;
  const sub = listWatch(t.context.client, ranges, { onTriggerRead: (r) => reads.push(`${r.kind} ${r.keys}`) }).subscribe((ev) => {
    if (ev.type === 'connection') return;
    if (ev.type === 'reset') {
      listed = true;
      kv.clear();
      for (const [k, v] of ev.entries) kv.set(k, v.value);
      return;
    }
    events.push(`${ev.type} ${ev.key}`);
    if (ev.type === 'put') kv.set(ev.key, ev.value);
    else kv.delete(ev.key);
  });
  return { kv, events, reads, sub, listed: () => listed };
}

async function converged(t: { context: EtcdContext }, root: string, kv: ReadonlyMap<string, string>): Promise<void> {
  const sorted = (o: Record<string, string>): string => JSON.stringify(Object.entries(o).sort());
  let etcd = '';
  await until(
    async () => {
      etcd = sorted(await t.context.client.getAll().prefix(root).strings());
      return sorted(Object.fromEntries(kv)) === etcd;
    },
    () => `the followed keys ${sorted(Object.fromEntries(kv))} vs etcd ${etcd}`,
  );
}

test('deletes are delivered, alone, across ranges, and of a key put again before the next read', async (t) => {
  const { client } = t.context;
  for (const k of ['/ld/a/1', '/ld/a/2', '/ld/a/3', '/ld/b/1', '/ld/b/2', '/ld/c']) await client.put(k).value('x');
  const m = mirror({ prefixes: ['/ld/a/', '/ld/b/'], keys: ['/ld/c'] }, t);
  t.teardown(() => m.sub.unsubscribe());
  await until(m.listed, () => 'the list');
  // a transaction that only deletes, across two ranges and the exact key
  await client.if('/ld/c', 'Create', '>', 0).then(client.delete().key('/ld/a/1'), client.delete().key('/ld/b/1'), client.delete().key('/ld/c')).commit();
  await converged(t, '/ld/', m.kv);
  t.deepEqual(m.events.filter((e) => e.startsWith('delete')).sort(), ['delete /ld/a/1', 'delete /ld/b/1', 'delete /ld/c']);
  // the reads after the list ask for the changed keys only: a delete-only transaction changes none
  t.true(m.reads.includes('delta 0'), `a read of no changed key; reads: ${m.reads.join(', ')}`);
  // deleted and put again at once: whichever read sees it, the key ends present with its new value
  await Promise.all([client.delete().key('/ld/a/2'), client.put('/ld/b/3').value('y')]);
  await client.put('/ld/a/2').value('again');
  await client.delete().key('/ld/a/3');
  await converged(t, '/ld/', m.kv);
  t.is(m.kv.get('/ld/a/2'), 'again');
  t.false(m.kv.has('/ld/a/3'));
});

test('ranges that overlap are still followed exactly (read whole on every trigger)', async (t) => {
  const { client } = t.context;
  await client.put('/lo/x/1').value('x');
  await client.put('/lo/y').value('x');
  const m = mirror({ prefixes: ['/lo/', '/lo/x/'], keys: ['/lo/y'] }, t);
  t.teardown(() => m.sub.unsubscribe());
  await until(m.listed, () => 'the list');
  await client.if('/lo/y', 'Create', '>', 0).then(client.delete().key('/lo/x/1'), client.put('/lo/x/2').value('z')).commit();
  await client.delete().key('/lo/y');
  await converged(t, '/lo/', m.kv);
  t.deepEqual([...m.kv.keys()], ['/lo/x/2']);
  t.true(m.reads.length > 0 && m.reads.every((r) => r.startsWith('full')), `every trigger read whole: ${m.reads.join(', ')}`);
});
