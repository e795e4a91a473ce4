import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { etcdConnectOptions } from '../src/cli/etcd-options';
import { UsageError } from '../src/cli/framework';
import { fromEnv, fromIniFile, resolveSettings } from '../src/daemon/settings';
import { resolveEtcdSettings } from '../src/etcd/connect-settings';

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'spp-settings-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a password file gives its first line; it wins over SPP_ETCD_PASSWORD; an empty or missing file is an error naming it', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'Secret-1\r\nignored\n');
  writeFileSync(join(dir, 'empty'), '\n');
  t.deepEqual(resolveEtcdSettings({ user: 'u', passwordFile: join(dir, 'pw'), password: 'env-pw' }), {
    endpoints: ['127.0.0.1:2379'],
    username: 'u',
    password: 'Secret-1',
  });
  t.throws(() => resolveEtcdSettings({ user: 'u', passwordFile: join(dir, 'empty') }), {
    message: /etcd password file \(--etcd-password-file \/ SPP_ETCD_PASSWORD_FILE\) .*empty is empty/,
  });
  t.throws(() => resolveEtcdSettings({ user: 'u', passwordFile: join(dir, 'none') }), { message: /cannot read .*none: ENOENT/ });
  t.throws(() => resolveEtcdSettings({ user: 'u' }), { message: /etcd user u .* needs a password/ });
  t.throws(() => resolveEtcdSettings({ keyFile: 'k' }), { message: /go together/ });
  t.throws(() => resolveEtcdSettings({ endpoints: ' , ' }), { message: /lists no endpoint/ });
});

test('the CLI takes flags over SPP_ETCD_* variables, and reports a setting that does not work as a usage error', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'from-file\n');
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'a CA\n');
  const env = { SPP_ETCD_ENDPOINTS: '127.0.0.2:2379', SPP_ETCD_USER: 'env-user', SPP_ETCD_PASSWORD: 'from-env', SPP_ETCD_CA_FILE: ca };
  t.deepEqual(etcdConnectOptions({}, env), { endpoints: ['127.0.0.2:2379'], caFile: ca, username: 'env-user', password: 'from-env' });
  t.deepEqual(etcdConnectOptions({ 'etcd-endpoints': 'a:1,b:2', 'etcd-user': 'flag-user', 'etcd-password-file': join(dir, 'pw') }, env), {
    endpoints: ['a:1', 'b:2'],
    caFile: ca,
    username: 'flag-user',
    password: 'from-file',
  });
  t.throws(() => etcdConnectOptions({ 'etcd-user': 'u' }, {}), { instanceOf: UsageError });
});

test('the agent reads the etcd user and password file from its ini and SPP_ETCD_PASSWORD_FILE; --etcd-password still works', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pw'), 'ini-secret\n');
  const ca = join(dir, 'ca.pem');
  writeFileSync(ca, 'a CA\n');
  writeFileSync(
    join(dir, 'agent.ini'),
    `[DEFAULT]\nhost = spp4\n\n[spp]\netcd_host = 127.0.0.5\netcd_user = agent-spp4\netcd_password_file = ${join(dir, 'pw')}\netcd_ca_file = ${ca}\n`,
  );
  const fromIni = resolveSettings(fromIniFile(join(dir, 'agent.ini')));
  t.deepEqual(fromIni.etcd, { endpoints: ['127.0.0.5:2379'], caFile: ca, username: 'agent-spp4', password: 'ini-secret' });
  const fromEnvVars = resolveSettings({ host: 'spp4' }, fromEnv({ SPP_ETCD_USER: 'a', SPP_ETCD_PASSWORD_FILE: join(dir, 'pw') }));
  t.is(fromEnvVars.etcd.password, 'ini-secret');
  t.is(resolveSettings({ host: 'spp4', etcdUser: 'a', etcdPassword: 'legacy-flag' }).etcd.password, 'legacy-flag');
  t.throws(() => resolveSettings({ host: 'spp4', etcdUser: 'a' }), { message: /needs a password/ });
});

test('the etcd watchdog: 60 s by default, seconds or off from flag, env or ini; too short or not a number is an error naming it', (t) => {
  const base = { host: 'h' };
  t.is(resolveSettings(base).etcdWatchdogMs, 60_000);
  t.is(resolveSettings(base, fromEnv({ SPP_ETCD_WATCHDOG: '90' })).etcdWatchdogMs, 90_000);
  t.is(resolveSettings(base, { etcdWatchdog: 'off' }).etcdWatchdogMs, undefined);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'agent.ini'), '[spp]\netcd_watchdog = 30\n');
  t.is(resolveSettings(base, fromIniFile(join(dir, 'agent.ini'))).etcdWatchdogMs, 30_000);
  for (const bad of ['5', 'soon', '', '-1']) {
    t.throws(() => resolveSettings(base, { etcdWatchdog: bad }), {
      message: /etcd watchdog \(SPP_ETCD_WATCHDOG\): expected off or a number of seconds >= 6/,
    });
  }
  // a value from the ini is named by its file and key, as every setting is
  writeFileSync(join(dir, 'bad.ini'), '[spp]\netcd_watchdog = 5\n');
  t.throws(() => resolveSettings(base, fromIniFile(join(dir, 'bad.ini'))), { message: /etcd watchdog \(.*bad\.ini:spp\.etcd_watchdog\): expected off/ });
});
