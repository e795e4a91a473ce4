/**
 * ava helpers around a real etcd: one server per test file (or per test when
 * a test stops or restarts it), on free loopback ports, stopped afterwards.
 */
import type { ExecutionContext, TestFn } from 'ava';
import { Etcd3 } from 'etcd3';
import { LocalEtcd } from '../../src/localetcd/etcd-server';

export interface EtcdContext {
  etcd: LocalEtcd;
  client: Etcd3;
}

/** Starts etcd before the file's tests and stops it after them. */
export function useEtcd<C extends EtcdContext>(test: TestFn<C>): void {
  test.before(async (t) => {
    t.context.etcd = await LocalEtcd.start();
    t.context.client = new Etcd3({ hosts: t.context.etcd.endpoints.map((e) => `http://${e}`) });
  });
  test.after.always(async (t) => {
    t.context.client?.close();
    await t.context.etcd?.stop();
  });
}

/** A fresh etcd for one test (for tests that stop or restart it). */
export async function withEtcd<T>(t: ExecutionContext, body: (etcd: LocalEtcd, client: Etcd3) => Promise<T>, size = 1): Promise<T> {
  const etcd = await LocalEtcd.start(size);
  const client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
  t.teardown(async () => {
    client.close();
    await etcd.stop();
  });
  return body(etcd, client);
}

/** Every key under `prefix` with its value, sorted by key. */
export async function dump(client: Etcd3, prefix = '/spp/'): Promise<Record<string, string>> {
  const all = await client.getAll().prefix(prefix).strings();
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => a.localeCompare(b)));
}

/** Parses the `etcdctl get --prefix` text form (key line, value line). */
export function parseEtcdctlText(text: string): Record<string, string> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < lines.length; i += 2) out[lines[i]!] = lines[i + 1]!;
  return out;
}
