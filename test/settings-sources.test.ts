/**
 * Every setting from a flag, the environment or the ini is checked at start:
 * a value that cannot work is exit 2 with a message naming its source (flag
 * --x, variable SPP_X, or file:section.key), before any connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { fromEnv, fromIniFile, resolveSettings, withOrigins } from '../src/daemon/settings';
import { endpointProblem } from '../src/etcd/connect-settings';
import { runCli } from './helpers/cli';

function iniFile(t: { teardown: (f: () => void) => void }, spp: string, host = 'spp4'): string {
  const dir = mkdtempSync(join(tmpdir(), 'spp-settings-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.ini');
  writeFileSync(file, `[DEFAULT]\nhost = ${host}\n\n[spp]\n${spp}\n`);
  return file;
}

/** `spp agent` with settings that must be refused: it never starts (a valid set would run an agent for ever). */
async function refused(t: import('ava').ExecutionContext, argv: string[], env: NodeJS.ProcessEnv, source: RegExp): Promise<void> {
  const r = await runCli(['agent', ...argv], env);
  t.is(r.code, 2, `${argv.join(' ')} ${JSON.stringify(env)}: ${r.err}`);
  t.regex(r.err.split('\n')[0]!, source);
  t.is(r.out, '');
}

test('an ini value that is not a port names the file, section and key; so do the other ini settings', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['etcd_port = notanumber', /agent\.ini:spp\.etcd_port: expected a port number 1-65535, got "notanumber"/],
    ['etcd_host = 127.0.0.5\netcd_port = 70000', /agent\.ini:spp\.etcd_port: expected a port number/],
    ['api_port = 77x7', /agent\.ini:spp\.api_port: expected a port number/],
    ['api_ip_addr = bad host', /spp-ctl URL \(.*agent\.ini:spp\.api_ip_addr\): expected http:\/\/HOST:PORT/],
    ['etcd_endpoints = 127.0.0.5', /agent\.ini:spp\.etcd_endpoints: "127\.0\.0\.5" is not an endpoint/],
    ['lease_ttl = soon', /leaseTtl \(.*agent\.ini:spp\.lease_ttl\): expected a number of seconds >= 2, got "soon"/],
    ['resync_interval =', /resyncInterval \(.*agent\.ini:spp\.resync_interval\)/],
    ['reassert_up = 3,1', /reassert schedule \(.*agent\.ini:spp\.reassert_up\)/],
    ['ops = everywhere', /ops endpoint address \(.*agent\.ini:spp\.ops\)/],
    ['unplug_resets_vlan = sometimes', /unplug-resets-vlan \(.*agent\.ini:spp\.unplug_resets_vlan\)/],
    ['etcd_ca_file = /nonexistent/ca.pem', /agent\.ini:spp\.etcd_ca_file: cannot read \/nonexistent\/ca\.pem: ENOENT/],
    ['etcd_prot = 2379', /agent\.ini:spp\.etcd_prot: unknown setting \(did you mean etcd_port\?\)/],
  ];
  for (const [spp, message] of bad) {
    const file = iniFile(t, spp);
    t.throws(() => resolveSettings(fromIniFile(file)), { message }, spp);
    await refused(t, ['--config-file', file], {}, message);
  }
  t.throws(() => resolveSettings(fromIniFile(iniFile(t, '', ''))), { message: /host \(.*agent\.ini:DEFAULT\.host\): must be non-empty/ });
  // [spp] is neutron's section too: a key far from every one of ours is someone else's
  t.is(resolveSettings(fromIniFile(iniFile(t, 'physical_interface_mappings = phys1:eth1\netcd_port = 2380'))).etcd.endpoints[0], '127.0.0.1:2380');
});

test('variables and flags are named as such; the source that wins is the one named', async (t) => {
  await refused(t, [], { SPP_HOST: 'h', SPP_LEASE_TTL: 'soon' }, /leaseTtl \(variable SPP_LEASE_TTL\)/);
  await refused(t, ['--host', 'h', '--lease-ttl', 'soon'], {}, /leaseTtl \(flag --lease-ttl\)/);
  await refused(t, ['--host', 'h'], { SPP_CTL_URL: 'http://127.0.0.1:notanumber' }, /spp-ctl URL \(variable SPP_CTL_URL\): expected http:\/\/HOST:PORT/);
  await refused(t, ['--host', 'h', '--etcd-endpoints', '127.0.0.1:notanumber'], {}, /flag --etcd-endpoints: "127\.0\.0\.1:notanumber" is not an endpoint/);
  await refused(t, ['--host', 'h'], { SPP_ETCD_ENDPOINTS: 'a:1,b' }, /variable SPP_ETCD_ENDPOINTS: "b" is not an endpoint/);
  await refused(t, ['--host', 'h', '--ops', 'x:y'], {}, /ops endpoint address \(flag --ops\)/);
  await refused(t, ['--host', ''], {}, /host \(flag --host\): must be non-empty/);
  await refused(
    t,
    ['--host', 'h', '--record', '/nonexistent/dir/agent.jsonl'],
    {},
    /record file \(flag --record\): cannot write in \/nonexistent\/dir: ENOENT/,
  );

  const file = iniFile(t, 'lease_ttl = soon');
  // the flag wins over the variable, which wins over the ini: the value checked, and named, is the winner's
  const flags = withOrigins({ leaseTtl: 'later' }, { leaseTtl: 'flag --lease-ttl' });
  t.throws(() => resolveSettings(fromIniFile(file), fromEnv({ SPP_LEASE_TTL: 'never' }), flags), { message: /flag --lease-ttl.*"later"/ });
  t.throws(() => resolveSettings(fromIniFile(file), fromEnv({ SPP_LEASE_TTL: 'never' })), { message: /variable SPP_LEASE_TTL.*"never"/ });
  t.is(resolveSettings(fromIniFile(file), fromEnv({ SPP_LEASE_TTL: '5' })).leaseTtlSec, 5, 'a good winner hides a bad loser');
  // without a known source (a plain object), the variable is named
  t.throws(() => resolveSettings({ host: 'h', leaseTtl: 'x' }), { message: /leaseTtl \(SPP_LEASE_TTL\)/ });
});

test('every command that talks to etcd checks its etcd settings and the agent addresses before connecting', async (t) => {
  const status = await runCli(['status'], { SPP_ETCD_ENDPOINTS: '127.0.0.1:notanumber' });
  t.is(status.code, 2);
  t.regex(status.err, /^spp status: variable SPP_ETCD_ENDPOINTS: "127\.0\.0\.1:notanumber" is not an endpoint/);
  const list = await runCli(['port', 'list', '--etcd-endpoints', 'etcd-1']);
  t.is(list.code, 2);
  t.regex(list.err, /flag --etcd-endpoints: "etcd-1" is not an endpoint/);
  const explain = await runCli(['explain', '--host', 'h', '--port-id', 'p', '--etcd-endpoints', '127.0.0.1:1'], { SPP_OPS: 'every where' });
  t.is(explain.code, 2);
  t.regex(explain.err, /ops endpoint \(variable SPP_OPS\): expected HOST:PORT or PORT, got "every where"/);
  const sppctl = await runCli(['explain', '--host', 'h', '--port-id', 'p', '--etcd-endpoints', '127.0.0.1:1', '--spp-ctl', 'http://h:99999']);
  t.is(sppctl.code, 2);
  t.regex(sppctl.err, /spp-ctl URL \(flag --spp-ctl\)/);
});

test('etcd endpoints: host:port, [v6]:port and URLs pass; a missing or bad port does not', (t) => {
  for (const ok of ['127.0.0.1:2379', 'etcd-1:2379', '[::1]:2379', 'https://etcd.example:2379', 'http://127.0.0.5:1']) t.is(endpointProblem(ok), undefined, ok);
  for (const bad of ['127.0.0.1', '127.0.0.1:notanumber', 'etcd:0', 'etcd:65536', 'http://etcd', 'a b:1', 'etcd:2379/x']) t.truthy(endpointProblem(bad), bad);
});
