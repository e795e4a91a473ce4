/**
 * Issue 26, section 5: inconsistent input is not accepted quietly.
 * (a) A port plugs only on the vhost its claim (the vhost key naming it)
 * names: a bind_port naming another vhost, or a vhost whose key is invalid,
 * ends in `error` naming both keys; unbinding then frees the vhost the port
 * did claim. (b) An invalid configuration makes /readyz 503 with the reason.
 * (d) http:// endpoints with a CA file are a usage error; --etcd-password on
 * the command line is warned about. ((c), stray keys: untrusted-text.test.ts.)
 */
import test from 'ava';
import { resolveEtcdSettings } from '../src/etcd/connect-settings';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { enableAuth, ROOT_PASSWORD } from './helpers/etcd-auth';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { opsUrl, readyz, sample, scrape } from './helpers/ops';
import { classified, startSystem, until } from './helpers/system';

const id = (n: number): string => `a0000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

test('a bind_port on a vhost the port did not claim, or whose key is invalid, is an error naming both keys; unbind frees the claimed vhost', async (t) => {
  const s = await startSystem(t);
  const [moved, invalid, unclaimed, good] = [id(1), id(2), id(3), id(4)];
  const vhost = (n: number): string => keys.vhost(s.host, n < 2 ? 'phys1' : 'phys2', n);
  const bind = async (portId: string, vhostId: number, mac: string): Promise<void> => {
    await s.client.put(keys.bindPort(s.host, portId)).value(JSON.stringify({ vhost_id: vhostId, mac_address: mac }));
  };
  // moved: claims vhost 0 (compare-and-swap as the driver does), its bind_port names vhost 1
  await s.client
    .if(vhost(0), 'Value', '==', 'None')
    .then(s.client.put(vhost(0)).value(moved))
    .commit();
  await bind(moved, 1, 'fa:16:3e:00:05:01');
  // invalid: vhost 2's key holds a value that is neither None nor a port id
  await s.client.put(vhost(2)).value('null');
  await bind(invalid, 2, 'fa:16:3e:00:05:02');
  // unclaimed: claims nothing, names the free vhost 3
  await bind(unclaimed, 3, 'fa:16:3e:00:05:03');
  for (const p of [moved, invalid, unclaimed]) await s.client.put(keys.action(s.host, p)).value('plug');

  const status = (p: string): Promise<string | undefined> => waitForValue(s.client, keys.portStatus(s.host, p), (v) => v !== undefined);
  const movedStatus = await status(moved);
  t.true(
    movedStatus!.startsWith(`error: ${keys.bindPort(s.host, moved)}: names vhost 1, but port ${moved} claimed ${vhost(0)} (${vhost(1)} is "None")`),
    movedStatus,
  );
  const invalidStatus = await status(invalid);
  t.regex(
    invalidStatus!,
    new RegExp(`^error: ${keys.bindPort(s.host, invalid)}: names vhost 2, whose key is invalid \\(${vhost(2)}: must be "None" \\(exactly\\)`),
  );
  const unclaimedStatus = await status(unclaimed);
  t.regex(
    unclaimedStatus!,
    new RegExp(`^error: ${keys.bindPort(s.host, unclaimed)}: names vhost 3, but port ${unclaimed} claimed no vhost \\(${vhost(3)} is "None"\\)`),
  );
  t.true(
    s.logs.some((r) => r.message === 'port failed' && r.port === moved && String(r.error).includes(vhost(0))),
    'logged as a port failure naming the claim',
  );
  t.deepEqual(await classified(s), [], 'nothing plugged for them');

  // spp explain says the same
  const explain = await runCli(['explain', '--host', s.host, '--port-id', moved, '--etcd-endpoints', s.etcd.endpoints.join(','), '--format', 'json']);
  const e = JSON.parse(explain.out) as { verdict: string; sentences: Array<{ text: string }> };
  t.is(e.verdict, 'invalid-input');
  t.regex(e.sentences[0]!.text, new RegExp(`claimed ${vhost(0)}`));

  // a port that claimed right still plugs, on the vhost the others named
  await pyBind(s.client, s.host, { portId: good, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:05:04' });
  await waitUp(s.client, s.host, good);
  t.deepEqual(await classified(s), ['1/ring:2/FA:16:3E:00:05:04'], 'only the claimed port is in the classifier');
  const now = await waitForValue(s.client, keys.portStatus(s.host, moved), (v) => v?.includes(`claimed by port ${good}`) === true);
  t.true(now!.endsWith(`vhost 1 is claimed by port ${good} in ${vhost(1)}; port ${moved} claimed ${vhost(0)}`), now);

  // the driver's unbind: the vhost the port claimed goes back to None; vhost 1 stays the good port's
  const unbind = await runCli([
    'port',
    'unbind',
    '--host',
    s.host,
    '--port-id',
    moved,
    '--wait',
    '--timeout',
    '15',
    '--etcd-endpoints',
    s.etcd.endpoints.join(','),
  ]);
  t.is(unbind.code, 0, unbind.err);
  t.regex(unbind.out, /freed its vhost/);
  t.is(await s.client.get(vhost(0)).string(), 'None', 'the claimed vhost is free again');
  t.is(await s.client.get(vhost(1)).string(), good);
  t.is(await s.client.get(keys.bindPort(s.host, moved)).string(), null);
  t.deepEqual(await classified(s), ['1/ring:2/FA:16:3E:00:05:04'], "the good port's entry is untouched");
});

test('an invalid configuration makes /readyz 503 naming the key and the problem, while the running layout is kept; valid again, 200', async (t) => {
  const s = await startSystem(t, { settings: { ops: '127.0.0.1:0' } });
  const url = await opsUrl(s.agent);
  const port = { portId: id(9), vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:05:09' };
  await pyBind(s.client, s.host, port);
  await waitUp(s.client, s.host, port.portId);
  await until(async () => (await readyz(url)).status === 200, 'ready');
  const configKey = keys.configuration(s.host);
  const valid = (await s.client.get(configKey).string())!;
  await s.client.put(configKey).value(valid.replace('0xfe', 'xfe'));
  const r = await until(async () => {
    const now = await readyz(url);
    return now.status === 503 && now;
  }, '/readyz 503');
  t.regex(r.body, /^not ready: configuration\/spp4 is invalid \(the agent keeps its last valid layout\): .*core_mask.*xfe/);
  t.is(sample(await scrape(url), 'spp_agent_ready'), 0);
  t.is(await s.client.get(keys.portStatus(s.host, port.portId)).string(), 'up', 'the port stays up on the layout kept');
  await s.client.put(configKey).value(valid);
  await until(async () => (await readyz(url)).status === 200, '/readyz 200 with the configuration valid again');
  t.is(sample(await scrape(url), 'spp_agent_ready'), 1);
});

test('an agent started with an invalid configuration is not ready, and says why', async (t) => {
  const s = await startSystem(t, { settings: { ops: '127.0.0.1:0' }, setup: false });
  await s.client.put(keys.configuration(s.host)).value('[{"pci_address": "00:04.0"}]');
  const url = await opsUrl(s.agent);
  const r = await until(async () => {
    const now = await readyz(url);
    return now.status === 503 && now.body.includes('invalid') && now;
  }, '/readyz names the invalid configuration');
  t.regex(r.body, /^not ready: configuration\/spp4 is invalid: .*physical_network: is missing/);
});

test('http:// endpoints with a CA file: a usage error (exit 2) naming both settings, for the agent and every etcd command', async (t) => {
  t.throws(() => resolveEtcdSettings({ endpoints: 'https://a:2379,http://b:2379', caFile: '/ca.pem' }), {
    message:
      '--etcd-endpoints / SPP_ETCD_ENDPOINTS has the plain-HTTP endpoint http://b:2379, but --etcd-ca-file / SPP_ETCD_CA_FILE asks for TLS: write https://b:2379 or drop the CA file',
  });
  // the CA file must be readable (checked at start): any readable file stands in for it here
  t.deepEqual(
    resolveEtcdSettings({ endpoints: 'https://a:2379,b:2379', caFile: __filename }).endpoints,
    ['https://a:2379', 'b:2379'],
    'https and bare endpoints take TLS',
  );
  t.deepEqual(resolveEtcdSettings({ endpoints: 'http://a:2379' }).endpoints, ['http://a:2379'], 'plain HTTP without a CA file is fine');
  for (const [argv, env] of [
    [['status', '--etcd-endpoints', 'http://127.0.0.1:2379', '--etcd-ca-file', '/ca.pem'], {}],
    [['port', 'list', '--host', 'spp4'], { SPP_ETCD_ENDPOINTS: 'HTTP://127.0.0.1:2379', SPP_ETCD_CA_FILE: '/ca.pem' }],
    [['agent', '--host', 'spp4', '--etcd-endpoints', 'http://127.0.0.1:2379'], { SPP_ETCD_CA_FILE: '/ca.pem' }],
  ] as const) {
    const r = await runCli([...argv], env);
    t.is(r.code, 2, argv.join(' '));
    t.regex(
      r.err,
      // each setting is named by its source (flag or variable), as every setting error is
      /(--etcd-endpoints|SPP_ETCD_ENDPOINTS)[^\n]* has the plain-HTTP endpoint http:\/\/127\.0\.0\.1:2379, but [^\n]*(--etcd-ca-file|SPP_ETCD_CA_FILE) asks for TLS/i,
    );
  }
});

test('--etcd-password on the command line: the agent warns at start (naming the safer ways), never printing the password, and runs', async (t) => {
  const s = await startSystem(t, { agent: false });
  const root = await enableAuth(s.etcd);
  t.teardown(() => root.close());
  s.spawnAgent(['--etcd-user', 'root', '--etcd-password', ROOT_PASSWORD, '--log-format', 'json']);
  await until(() => root.get(keys.agent(s.host)).exists(), 'the agent alive, logged in', 15_000);
  const warning = await until(
    () =>
      s.childOutput
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((r) => r.level === 'warn' && String(r.message).startsWith('--etcd-password is on the command line')),
    'the warning',
  );
  t.regex(String(warning.message), /SPP_ETCD_PASSWORD or --etcd-password-file/);
  t.false(s.childOutput.includes(ROOT_PASSWORD), 'the password is in no log line');
  await s.killChild('SIGTERM');
});
