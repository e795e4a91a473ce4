/**
 * `spp systemd-unit`: the unit it prints (restart, credentials from an
 * EnvironmentFile, loopback visualizer, ExecStart quoting), its usage
 * errors, systemd's own check of the unit, and the docs' copy of it.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { quoteExecArg, renderUnit } from '../src/deploy/systemd-unit';
import { runCli } from './helpers/cli';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'spp.js');

const line = (unit: string, key: string): string[] =>
  unit
    .split('\n')
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

test('the unit: Restart=always, credentials from the EnvironmentFile, visualizer on loopback, ExecStart from the flags', async (t) => {
  const r = await runCli(['systemd-unit', '--host', 'compute-1', '--etcd-endpoints', 'etcd-1:2379,etcd-2:2379', '--spp-bin', '/usr/bin/spp']);
  t.is(r.code, 0, r.err);
  t.is(r.err, '');
  t.deepEqual(line(r.out, 'Restart'), ['always']);
  t.deepEqual(line(r.out, 'EnvironmentFile'), ['/etc/spp/agent.env']);
  t.deepEqual(line(r.out, 'ExecStart'), [
    '/usr/bin/spp agent --host compute-1 --etcd-endpoints etcd-1:2379,etcd-2:2379 --spp-ctl http://127.0.0.1:7777 --ui 127.0.0.1:7780 --ops 127.0.0.1:9180 --log-format json',
  ]);
  t.deepEqual(line(r.out, 'DynamicUser'), ['yes']);
  t.deepEqual(line(r.out, 'User'), []);
  t.deepEqual(line(r.out, 'WantedBy'), ['multi-user.target']);
  t.deepEqual(
    r.out.split('\n').filter((l) => /password/i.test(l) && !l.startsWith('#')),
    [],
    'no secret in the unit, only the comment on where it goes',
  );
});

test('--user, --ui off, --record, --config-file and agent arguments after --', async (t) => {
  const r = await runCli([
    'systemd-unit',
    '--host',
    'c2',
    '--spp-bin',
    '/opt/spp/bin/spp',
    '--user',
    'spp',
    '--ui',
    'off',
    '--ops',
    'off',
    '--record',
    '/var/lib/spp-agent/record.jsonl',
    '--config-file',
    '/etc/neutron/spp agent.ini',
    '--log-level',
    'debug',
    '--environment-file',
    '/etc/spp/c2.env',
    '--',
    '--lease-ttl',
    '5',
    '--reassert-up',
    'off',
  ]);
  t.is(r.code, 0, r.err);
  t.deepEqual(line(r.out, 'User'), ['spp']);
  t.deepEqual(line(r.out, 'Group'), ['spp']);
  t.deepEqual(line(r.out, 'DynamicUser'), []);
  t.deepEqual(line(r.out, 'StateDirectory'), ['spp-agent']);
  t.deepEqual(line(r.out, 'EnvironmentFile'), ['/etc/spp/c2.env']);
  t.deepEqual(line(r.out, 'ExecStart'), [
    '/opt/spp/bin/spp agent --host c2 --config-file "/etc/neutron/spp agent.ini" --spp-ctl http://127.0.0.1:7777 --record /var/lib/spp-agent/record.jsonl --log-level debug --log-format json --lease-ttl 5 --reassert-up off',
  ]);
  const root = await runCli(['systemd-unit', '--host', 'c2', '--spp-bin', '/usr/bin/spp', '--user', 'root', '--record', '/srv/rec/a.jsonl']);
  t.deepEqual([line(root.out, 'User'), line(root.out, 'DynamicUser'), line(root.out, 'ReadWritePaths')], [[], [], ['/srv/rec']]);
});

test('the ops endpoint: loopback by default, another address with a warning', async (t) => {
  const r = await runCli(['systemd-unit', '--host', 'c3', '--spp-bin', '/usr/bin/spp', '--ops', 'node7.example:9180']);
  t.is(r.code, 0, r.err);
  t.regex(r.err, /warning: --ops node7\.example:9180 is not a loopback address/);
  t.regex(line(r.out, 'ExecStart')[0]!, / --ops node7\.example:9180 /);
  const bad = await runCli(['systemd-unit', '--host', 'c3', '--spp-bin', '/usr/bin/spp', '--ops', 'nowhere']);
  t.is(bad.code, 2);
  t.regex(bad.err, /ops/);
});

test("an spp, node, ini or record under a directory the unit's sandbox hides: a warning naming the path and the setting", async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['--spp-bin', '/root/.nvm/versions/node/v20.11.0/bin/spp'],
      /the spp of ExecStart \/root\/\.nvm\/\S+ is under \/root, which the unit's ProtectHome=yes hides/,
    ],
    [['--spp-bin', '/home/ops/.local/bin/spp'], /under \/home, which the unit's ProtectHome=yes hides/],
    [['--spp-bin', '/run/user/1000/spp'], /under \/run\/user, which the unit's ProtectHome=yes hides/],
    [['--spp-bin', '/tmp/spp/bin/spp'], /under \/tmp, which the unit's PrivateTmp=yes hides/],
    [
      ['--spp-bin', '/usr/bin/spp', '--record', '/var/tmp/rec.jsonl'],
      /--record \/var\/tmp\/rec\.jsonl is under \/var\/tmp, which the unit's PrivateTmp=yes hides/,
    ],
    [['--spp-bin', '/usr/bin/spp', '--config-file', '/root/agent.ini'], /--config-file \/root\/agent\.ini is under \/root/],
  ];
  for (const [argv, warning] of cases) {
    const r = await runCli(['systemd-unit', '--host', 'c4', ...argv]);
    t.is(r.code, 0, `${argv.join(' ')}: the unit is still printed`);
    t.regex(r.err, warning, argv.join(' '));
    t.regex(r.out, /^ExecStart=/m);
  }
  for (const bin of ['/usr/bin/spp', '/opt/spp/bin/spp', '/usr/local/bin/spp', '/rootless/spp', '/homes/spp', '/tmpfs/spp']) {
    const r = await runCli(['systemd-unit', '--host', 'c4', '--spp-bin', bin]);
    t.is(r.err, '', `${bin}: no warning`);
  }
});

test('a non-loopback --ui is allowed, with a warning', async (t) => {
  const r = await runCli(['systemd-unit', '--host', 'c3', '--spp-bin', '/usr/bin/spp', '--ui', 'mgmt.compute-3:7780']);
  t.is(r.code, 0);
  t.regex(r.err, /warning: --ui mgmt\.compute-3:7780 is not a loopback address/);
  t.regex(line(r.out, 'ExecStart')[0]!, / --ui mgmt\.compute-3:7780 /);
});

const usage: Array<[string[], RegExp]> = [
  [[], /--host is required/],
  [['--host', 'a/b'], /host \(flag --host\): must be non-empty and contain no '\/'/],
  [['--host', 'h', '--spp-bin', 'bin/spp'], /--spp-bin must be an absolute path/],
  [['--host', 'h', '--environment-file', 'agent.env'], /--environment-file must be an absolute path/],
  [['--host', 'h', '--ui', 'nowhere'], /--ui/],
  [['--host', 'h', '--spp-ctl', 'localhost:7777'], /spp-ctl URL/],
  [['--host', 'h', '--log-format', 'xml'], /log format/],
  [['--host', 'h', '--group', 'spp'], /--group needs --user/],
  [['--host', 'h', 'extra'], /unexpected argument "extra": arguments for the agent go after `--`/],
  [['--host', 'h', '--', '--lease-tl', '5'], /the agent would refuse its arguments: unknown option --lease-tl \(did you mean --lease-ttl\?\)/],
  [['--host', 'h', '--', '--etcd-password', 'secret'], /--etcd-password does not go in a unit: put SPP_ETCD_PASSWORD=\.\.\. in the --environment-file/],
  [['--host', 'h', '--', '--etcd-password=secret'], /--etcd-password does not go in a unit/],
  [['--host', 'h', '--user', 'a\nb'], /cannot hold a newline/],
];

for (const [argv, message] of usage) {
  test(`spp systemd-unit ${JSON.stringify(argv)}: usage error, exit 2`, async (t) => {
    const r = await runCli(['systemd-unit', ...argv]);
    t.is(r.code, 2);
    t.regex(r.err, message);
    t.is(r.out, '', 'no unit printed');
    t.notRegex(r.err, /secret/, 'the password is not echoed');
  });
}

test('ExecStart quoting: systemd specifiers and variables are escaped, spaces and quotes quoted', (t) => {
  t.is(quoteExecArg('--ui'), '--ui');
  t.is(quoteExecArg('/var/lib/a b'), '"/var/lib/a b"');
  t.is(quoteExecArg('100%'), '100%%');
  t.is(quoteExecArg('$HOME'), '$$HOME');
  t.is(quoteExecArg('say "hi"\\'), '"say \\"hi\\"\\\\"');
  t.is(quoteExecArg(''), '""');
});

test("node outside systemd's PATH: the unit sets PATH so that spp finds the same node", (t) => {
  const base = {
    host: 'h',
    sppBin: '/opt/spp/bin/spp',
    environmentFile: '/etc/spp/agent.env',
    sppCtl: 'http://127.0.0.1:7777',
    logFormat: 'json',
    agentArgs: [],
  };
  t.deepEqual(line(renderUnit({ ...base, nodeDir: '/usr/bin' }), 'Environment'), []);
  t.deepEqual(line(renderUnit({ ...base, nodeDir: '/opt/node-20/bin' }), 'Environment'), [
    'PATH=/opt/node-20/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
});

test('systemd-analyze verify accepts the unit', async (t) => {
  const analyze = await new Promise<boolean>((resolve) => execFile('systemd-analyze', ['--version'], (err) => resolve(!err)));
  if (!analyze) {
    t.log('systemd-analyze is not installed: the unit is not verified by systemd here, only its sections');
    const r = await runCli(['systemd-unit', '--host', 'compute-1', '--spp-bin', BIN]);
    t.deepEqual(
      r.out.split('\n').filter((l) => l.startsWith('[')),
      ['[Unit]', '[Service]', '[Install]'],
    );
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'spp-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = join(dir, 'agent.env');
  await writeFile(env, 'SPP_ETCD_USER=compute-1\n', { mode: 0o600 });
  const r = await runCli([
    'systemd-unit',
    '--host',
    'compute-1',
    '--spp-bin',
    BIN,
    '--environment-file',
    env,
    '--record',
    '/var/lib/spp-agent/r 1.jsonl',
    '--',
    '--lease-ttl',
    '5',
  ]);
  t.is(r.code, 0, r.err);
  const unit = join(dir, 'spp-agent.service');
  await writeFile(unit, r.out);
  const verified = await new Promise<{ err: string; failed: boolean }>((resolve) =>
    execFile('systemd-analyze', ['verify', unit], (err, _out, stderr) => resolve({ err: stderr, failed: err !== null })),
  );
  t.false(verified.failed, verified.err);
  t.deepEqual(
    verified.err.split('\n').filter((l) => l.includes('spp-agent.service')),
    [],
    'systemd has no complaint about the unit',
  );
});

test('docs/operations.md shows the unit exactly as the command prints it', async (t) => {
  const docs = await readFile(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const m = /```ini\n(# The networking-spp agent for host compute-1[\s\S]*?)```/.exec(docs);
  t.truthy(m, 'the unit is in docs/operations.md');
  // what `npm install -g` gives with Debian's node and npm (prefix /usr)
  const expected = renderUnit({
    host: 'compute-1',
    sppBin: '/usr/bin/spp',
    nodeDir: '/usr/bin',
    environmentFile: '/etc/spp/agent.env',
    etcdEndpoints: 'etcd-1:2379,etcd-2:2379,etcd-3:2379',
    sppCtl: 'http://127.0.0.1:7777',
    ui: '127.0.0.1:7780',
    ops: '127.0.0.1:9180',
    logFormat: 'json',
    agentArgs: [],
    docs: '/usr/lib/node_modules/networking-spp/docs/operations.md',
  });
  t.is(m?.[1], expected);
  t.true(docs.includes('spp systemd-unit --host compute-1 --etcd-endpoints etcd-1:2379,etcd-2:2379,etcd-3:2379'), 'the docs give the command');
});
