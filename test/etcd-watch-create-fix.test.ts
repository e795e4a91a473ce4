/**
 * etcd3 1.1.2's watch manager after etcd refuses a watch create (created and
 * canceled in one answer), driven through a stand-in for its gRPC stream: the
 * library's own queue, not etcd, is what is under test. The same refusal from
 * a real etcd (the old auth token after a restart) is in agent-etcd-outage.
 */
import { EventEmitter } from 'node:events';
import test from 'ava';
import { WatchManager } from 'etcd3/lib/watch';
import '../src/etcd/watch-create-fix';

class Stream extends EventEmitter {
  readonly writes: unknown[] = [];
  cancelled = false;
  write(msg: unknown): void {
    this.writes.push(msg);
  }
  cancel(): void {
    this.cancelled = true;
  }
}

function manager(): { m: WatchManager; streams: Stream[] } {
  const streams: Stream[] = [];
  const client = {
    watch: async () => {
      const s = new Stream();
      streams.push(s);
      return s;
    },
  };
  const backoff = { duration: 1, next: () => backoff };
  return { m: new WatchManager(client as never, backoff as never), streams };
}

function watcher(name: string): EventEmitter & { id: string | null; request: { key: string } } {
  return Object.assign(new EventEmitter(), { id: null as string | null, request: { key: name } });
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test('a create refused for its credentials: the refused watcher errs, the stream is rebuilt and the next watcher is created on it', async (t) => {
  const { m, streams } = manager();
  const a = watcher('a');
  const b = watcher('b');
  const errors: string[] = [];
  a.on('error', (e: Error) => errors.push(e.message));
  m.attach(a as never);
  await tick();
  m.attach(b as never);
  t.is(streams.length, 1);
  t.deepEqual(streams[0]!.writes, [{ create_request: { key: 'a' } }], 'one create at a time');
  streams[0]!.emit('data', { created: true, canceled: true, cancel_reason: 'etcdserver: invalid auth token', watch_id: '0' });
  t.regex(errors.join(), /invalid auth token/);
  t.true(streams[0]!.cancelled, 'the stream with the stale credentials is closed');
  await tick(20);
  t.is(streams.length, 2, 'a new stream');
  t.deepEqual(streams[1]!.writes, [{ create_request: { key: 'b' } }], 'the waiting watcher is created on it');
  let connected = false;
  b.on('connected', () => {
    connected = true;
  });
  streams[1]!.emit('data', { created: true, canceled: false, watch_id: '7' });
  t.true(connected);
  t.is(b.id, '7');
});

test('a create refused for another reason: the next create is sent on the same stream', async (t) => {
  const { m, streams } = manager();
  const a = watcher('a');
  const b = watcher('b');
  a.on('error', () => {});
  m.attach(a as never);
  await tick();
  m.attach(b as never);
  streams[0]!.emit('data', { created: true, canceled: true, cancel_reason: 'etcdserver: permission denied', watch_id: '0' });
  t.false(streams[0]!.cancelled);
  t.deepEqual(streams[0]!.writes, [{ create_request: { key: 'a' } }, { create_request: { key: 'b' } }]);
});
