/**
 * etcd with authentication on, for security tests: a real etcd (one per
 * file), a root user, auth enabled through etcd's own API, and password
 * files in a private temp dir (passwords never go on a command line).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestFn } from 'ava';
import { Etcd3, EtcdRoleExistsError } from 'etcd3';
import { connectEtcd } from '../../src/etcd/connect';
import { LocalEtcd } from '../../src/localetcd/etcd-server';

export interface AuthEtcdContext {
  etcd: LocalEtcd;
  /** Logged in as root. */
  root: Etcd3;
  dir: string;
  rootPasswordFile: string;
}

export const ROOT_PASSWORD = 'r00t-Secret-4711';

export function secretFile(dir: string, name: string, secret: string): string {
  const path = join(dir, name);
  writeFileSync(path, `${secret}\n`);
  chmodSync(path, 0o600);
  return path;
}

/** Creates root (with the root role) and turns authentication on. */
export async function enableAuth(etcd: LocalEtcd, rootPassword = ROOT_PASSWORD): Promise<Etcd3> {
  const hosts = etcd.endpoints.map((e) => `http://${e}`);
  const open = new Etcd3({ hosts });
  try {
    await open
      .role('root')
      .create()
      .catch((err: unknown) => {
        if (!(err instanceof EtcdRoleExistsError)) throw err;
      });
    await open.user('root').create(rootPassword);
    await open.user('root').addRole('root');
    await open.auth.authEnable({});
  } finally {
    open.close();
  }
  return clientAs(etcd, 'root', rootPassword);
}

/**
 * A client logged in as `user`, built as every `spp` command builds its own
 * (etcd3 with its default fault handling wedges after an etcd restart with
 * auth on: src/etcd/fault-handling.ts).
 */
export function clientAs(etcd: LocalEtcd, user: string, password: string): Etcd3 {
  return connectEtcd({ endpoints: etcd.endpoints, username: user, password });
}

/** One etcd with auth on for the file's tests. */
export function useAuthEtcd<C extends AuthEtcdContext>(test: TestFn<C>): void {
  test.before(async (t) => {
    t.context.etcd = await LocalEtcd.start();
    t.context.root = await enableAuth(t.context.etcd);
    t.context.dir = mkdtempSync(join(tmpdir(), 'spp-auth-'));
    t.context.rootPasswordFile = secretFile(t.context.dir, 'root.pw', ROOT_PASSWORD);
  });
  test.after.always(async (t) => {
    t.context.root?.close();
    await t.context.etcd?.stop();
    if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
  });
}

/** The environment of an admin `spp` command: root, password from a file. */
export function rootEnv(c: AuthEtcdContext): NodeJS.ProcessEnv {
  return { SPP_ETCD_ENDPOINTS: c.etcd.endpoint, SPP_ETCD_USER: 'root', SPP_ETCD_PASSWORD_FILE: c.rootPasswordFile };
}
