import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { claimAndBind, setAction } from '../src/driver/original-writes';
import { pythonJson } from '../src/protocol/codecs';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { enableAuth, secretFile } from './helpers/etcd-auth';
import { waitUp } from './helpers/neutron';
import { opsUrl } from './helpers/ops';
import { nicsReady, startSystem, until } from './helpers/system';

const SECRET_ENV = 'env-Secret-9f3b2';
const SECRET_FILE = 'file-Secret-71c0e';

/** The one top directory an archive was extracted into. */
const top2 = (dir: string): string => readdirSync(dir)[0]!;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test('spp report: an archive whose listing matches the summary, with every part, and no secret from the command line or the environment', async (t) => {
  const s = await startSystem(t, { agent: false });
  // etcd with authentication, root's password first in the environment
  const root = await enableAuth(s.etcd, SECRET_ENV);
  t.teardown(() => root.close());
  s.startAgent({ ops: '127.0.0.1:0', etcdUser: 'root', etcdPassword: SECRET_ENV });
  const ops = await opsUrl(s.agent);
  await nicsReady(s);
  const up = { portId: 'd0000000-0000-0000-0000-000000000001', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0d:01' };
  await claimAndBind(root, s.host, up);
  await setAction(root, s.host, up.portId, 'plug');
  await waitUp(root, s.host, up.portId);
  const bad = 'd0000000-0000-0000-0000-000000000002';
  await root.put(keys.bindPort(s.host, bad)).value(pythonJson({ vhost_id: 1, mac_address: 'bad-mac' }));
  await root.put(keys.action(s.host, bad)).value('plug');
  await until(async () => (await root.get(keys.portStatus(s.host, bad)).string())?.startsWith('error:'), 'the bad port reported');

  const dir = mkdtempSync(join(tmpdir(), 'spp-report-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = {
    SPP_ETCD_ENDPOINTS: s.etcd.endpoints.join(','),
    SPP_ETCD_USER: 'root',
    SPP_ETCD_PASSWORD: SECRET_ENV,
    SPP_OPS: ops.replace('http://', ''),
    SPP_CTL_URL: s.sim.url,
  };
  const out = join(dir, 'r1.tar.gz');
  const run = await runCli(['report', '--host', s.host, '--out', out], env);
  t.is(run.code, 0, run.err);
  const summary = run.out;
  t.regex(summary, /^spp report: r1\.tar\.gz \(\d+ bytes\), \d+ files under spp-report-spp4-[^/]+\/:\n/);
  t.regex(summary, /secrets: no password or key file is read into the report/);

  const listing = execFileSync('tar', ['-tzf', out])
    .toString()
    .split('\n')
    .filter((l) => l && !l.endsWith('/'));
  const top = listing[0]!.split('/')[0]!;
  const inSummary = summary
    .split('\n')
    .filter((l) => l.startsWith('  '))
    .map((l) => `${top}/${l.trim().split(/\s+/)[0]}`);
  t.deepEqual([...listing].sort(), [...inSummary].sort(), 'the listing is the summary');
  for (const part of [
    'etcd/keys.txt',
    'etcd/keys.etcdctl.json',
    'status.txt',
    'config-show.txt',
    'sppctl/processes.json',
    'sppctl/vf-1.json',
    'sppctl/vf-2.json',
    'agent/metrics.txt',
    'agent/readyz.txt',
    'agent/view.json',
    'explain.txt',
    'explain.json',
    'replay.txt',
    'versions.json',
  ]) {
    t.true(listing.includes(`${top}/${part}`), part);
  }

  const x = join(dir, 'x1');
  execFileSync('mkdir', ['-p', x]);
  execFileSync('tar', ['-xzf', out, '-C', x]);
  const read = (p: string): string => readFileSync(join(x, top, p), 'utf8');
  for (const f of files(x)) t.false(readFileSync(f, 'utf8').includes(SECRET_ENV), `${f} holds no secret`);
  t.regex(read('etcd/keys.txt'), new RegExp(`/spp/openstack/bind_port/spp4/${up.portId} \\(mod revision \\d+\\)`));
  t.regex(read('status.txt'), /^\$ spp status --host spp4\n/);
  t.regex(read('config-show.txt'), /spp config show --host spp4/);
  t.regex(read('agent/metrics.txt'), /^# HELP /m);
  t.regex(read('agent/metrics.txt'), /spp_port_convergence_seconds_count\{action="plug"\} 1/);
  t.is(read('agent/readyz.txt'), '200\nok\n');
  t.regex(read('explain.txt'), new RegExp(`port ${bad} on host spp4: NOT UP \\(invalid-input`));
  t.false(read('explain.txt').includes(`port ${up.portId} on host`), 'only ports that are not up');
  t.regex(read('replay.txt'), /spp4/);
  // the replay starts from the vf statuses just collected: a healthy host needs no command (not a rebuild from empty vfs)
  t.regex(read('replay.txt'), new RegExp(`^observed: the vfs start as ${s.sim.url} \\(the sppctl/vf-\\*\\.json above\\) reports them now`, 'm'));
  t.regex(read('replay.txt'), /^ {2}spp-ctl commands \(0\):$/m);
  t.regex(summary, /replay\.txt +\d+ B +a replay of the keys from the vf statuses collected above/);
  const versions = JSON.parse(read('versions.json')) as { spp: string; etcd: string; agent: string; libraries: Record<string, string> };
  t.regex(versions.etcd, /^3\./);
  t.is(versions.agent, versions.spp);
  t.is(versions.libraries['prom-client'], '15.1.3');
  // the keys file reads back in `spp replay`
  const replayed = await runCli(['replay', join(x, top, 'etcd/keys.etcdctl.json'), '--host', 'spp4']);
  t.regex(replayed.out, new RegExp(`${up.portId} +plugged\\.steady`));
  t.regex(replayed.out, new RegExp(`${bad} +failed\\.reported`));

  // the password from a file named on the command line
  const pwFile = secretFile(dir, 'root.pw', SECRET_FILE);
  await root.user('root').setPassword(SECRET_FILE);
  const out2 = join(dir, 'r2.tar.gz');
  const run2 = await runCli(
    ['report', '--host', s.host, '--out', out2, '--etcd-user', 'root', '--etcd-password-file', pwFile, '--etcd-endpoints', s.etcd.endpoints.join(',')],
    {},
  );
  t.is(run2.code, 0, run2.err);
  t.regex(run2.out, /note: spp-ctl not asked/);
  const x2 = join(dir, 'x2');
  execFileSync('mkdir', ['-p', x2]);
  execFileSync('tar', ['-xzf', out2, '-C', x2]);
  // without spp-ctl the replay says it starts from empty vfs, and rebuilds
  t.regex(run2.out, /replay\.txt +\d+ B +a replay of the keys from empty vfs/);
  const replay2 = readFileSync(join(x2, top2(x2), 'replay.txt'), 'utf8');
  t.regex(replay2, /^observed: every spp_vf starts empty/m);
  t.true(Number(/spp-ctl commands \((\d+)\)/.exec(replay2)?.[1]) > 20, replay2);
  for (const f of files(x2)) {
    const text = readFileSync(f, 'utf8');
    t.false(text.includes(SECRET_FILE) || text.includes(SECRET_ENV), `${f} holds no secret`);
  }
});
