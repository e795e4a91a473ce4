/**
 * CLI habits: argument errors in one line of our words with "did you mean",
 * -v, -o/--output beside --format on every command that prints, one
 * exit-code scheme, one file option name, and completion scripts generated
 * from the command table (run in a real bash).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { argsProblem } from '../src/cli/args';
import { closest, editDistance } from '../src/suggest';
import { VERSION } from '../src/version';
import { runCli } from './helpers/cli';
import { withEtcd } from './helpers/etcd';

const run = promisify(execFile);
const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';

/** Every usage error is one line: the command, what is wrong, where the usage is; none of node's parser text. */
function oneLine(t: import('ava').ExecutionContext, r: { code: number; err: string; out: string }, message: RegExp): void {
  t.is(r.code, 2, r.err);
  t.is(r.out, '');
  t.is(r.err.split('\n').length, 2, `one line: ${JSON.stringify(r.err)}`);
  t.regex(r.err, message);
  t.notRegex(r.err, /Unknown option|positional argument|argument is ambiguous|argument missing|To specify/);
}

test('edit distance and the nearest word', (t) => {
  t.is(editDistance('stauts', 'status'), 1, 'a transposition is one edit');
  t.is(editDistance('', 'abc'), 3);
  t.is(closest('lease-tl', ['lease-ttl', 'log-level']), 'lease-ttl');
  t.is(closest('hots', ['host', 'help']), 'host');
  t.is(closest('zzzzzz', ['host', 'help']), undefined, 'nothing near');
  t.is(closest('etcd-ca', ['etcd-ca-file', 'etcd-cert-file']), 'etcd-ca-file', 'a unique prefix');
});

test('argument errors: one line of our words, with the nearest option or command', async (t) => {
  oneLine(t, await runCli(['stauts']), /^spp: unknown command "stauts" \(did you mean "status"\?\) \(see `spp --help`\)$/m);
  oneLine(t, await runCli(['config', 'biuld']), /^spp: unknown command "config biuld" \(did you mean "config build"\?\)/);
  oneLine(t, await runCli(['status', '--hots', 'h']), /^spp status: unknown option --hots \(did you mean --host\?\) \(see `spp status --help`\)$/m);
  oneLine(t, await runCli(['status', '--host']), /^spp status: --host needs a value \(HOST\)/);
  oneLine(t, await runCli(['status', '--help=yes']), /--help takes no value/);
  oneLine(
    t,
    await runCli(['replay', '--from-revision', '-1']),
    /--from-revision needs a value \(R\); -1 reads as an option \(a value that starts with "-" is written --from-revision=-1\)/,
  );
  oneLine(t, await runCli(['status', '-x']), /^spp status: unknown option -x/);
  oneLine(t, await runCli(['status', '--format', 'jsno']), /--format must be one of text, json, got "jsno" \(did you mean json\?\)/);
  oneLine(t, await runCli(['status', '--format', 'text', '-o', 'json']), /--format text and --output json disagree/);
  oneLine(t, await runCli(['completion', 'bsh']), /unknown shell "bsh": bash or zsh \(did you mean bash\?\)/);
  t.is(argsProblem({ host: { type: 'string' } }, ['--', '--anything']), undefined, 'after -- nothing is an option');
  t.is(argsProblem({ format: { type: 'string', short: 'o' } }, ['-ojson']), undefined, 'a short option with its value attached');
});

test('spp -v and --version print the version; spp --help states the exit codes once', async (t) => {
  for (const flag of ['-v', '--version']) {
    const r = await runCli([flag]);
    t.deepEqual([r.code, r.out], [0, `${VERSION}\n`], flag);
  }
  const help = await runCli(['--help']);
  t.regex(
    help.out,
    /exit status, every command:\n {2}0 {2}done.*\n {2}1 {2}the thing asked about is not there[\s\S]*\n {2}2 {2}usage: an unknown command or option/,
  );
  t.regex(help.out, /--format text\|json \(or -o json\)/);
  t.regex(help.out, /\n {2}completion +print a shell completion script/);
});

test('-o json / --output json beside --format on every command that prints; one file option: --out', async (t) => {
  await withEtcd(t, async (etcd) => {
    const e = ['--etcd-endpoints', etcd.endpoints.join(',')];
    const build = await runCli(['config', 'build', '--host', 'c1', '--mappings', SEED, '-o', 'json', ...e]);
    t.is(build.code, 0, build.err);
    const built = JSON.parse(build.out) as { host: string; created: string[]; changed: boolean };
    t.is(built.host, 'c1');
    t.is(built.created.length, 4);
    const again = JSON.parse((await runCli(['config', 'build', '--host', 'c1', '--mappings', SEED, '--output', 'json', ...e])).out) as { changed: boolean };
    t.false(again.changed);
    for (const argv of [
      ['status', '--host', 'c1'],
      ['config', 'show', '--host', 'c1'],
      ['port', 'list', '--host', 'c1'],
    ]) {
      const r = await runCli([...argv, '-o', 'json', ...e]);
      t.is(r.code, 0, `${argv.join(' ')}: ${r.err}`);
      t.notThrows(() => JSON.parse(r.out), argv.join(' '));
      t.deepEqual(JSON.parse(r.out), JSON.parse((await runCli([...argv, '--format', 'json', ...e])).out), `${argv.join(' ')}: -o json is --format json`);
    }
    const archiveDir = mkdtempSync(join(tmpdir(), 'spp-habits-report-'));
    t.teardown(() => rmSync(archiveDir, { recursive: true, force: true }));
    const report = await runCli(['report', '--host', 'c1', '-o', 'json', '--out', join(archiveDir, 'r.tar.gz'), ...e]);
    t.is(report.code, 0, report.err);
    const summary = JSON.parse(report.out) as { archive: string; files: Array<{ path: string }> };
    t.is(summary.archive, join(archiveDir, 'r.tar.gz'));
    t.true(summary.files.some((f) => f.path === 'status.txt'));
    const destroy = await runCli(['config', 'destroy', '--host', 'c1', '--output', 'json', ...e]);
    t.is(destroy.code, 0, destroy.err);
    t.is((JSON.parse(destroy.out) as { deleted: string[] }).deleted.length, 5);
  });
  for (const cmd of [['port', 'bind'], ['config', 'build'], ['config', 'destroy'], ['report'], ['status'], ['port', 'list'], ['explain'], ['replay']]) {
    const help = (await runCli([...cmd, '--help'])).out;
    t.regex(help, /--format text\|json/, cmd.join(' '));
    t.regex(help, /-o, --output FORMAT +the same as --format/, cmd.join(' '));
  }
  // machines export: --out is the file, as report's; -o is the format; --output FILE still writes the file
  const dir = mkdtempSync(join(tmpdir(), 'spp-habits-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const viaOut = await runCli(['machines', 'export', '-o', 'json', '--machine', 'nic', '--out', join(dir, 'a.json')]);
  t.is(viaOut.code, 0, viaOut.err);
  t.is((JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { id?: string }).id, 'nic');
  const legacy = await runCli(['machines', 'export', '--format', 'dot', '--machine', 'nic', '--output', join(dir, 'b.dot')]);
  t.is(legacy.code, 0, legacy.err);
  t.regex(readFileSync(join(dir, 'b.dot'), 'utf8'), /^digraph/);
});

test('one exit-code scheme: an unknown host is 1 for status and port list; bad mappings are 2 for config build and sim', async (t) => {
  await withEtcd(t, async (etcd) => {
    const e = ['--etcd-endpoints', etcd.endpoints.join(',')];
    const status = await runCli(['status', '--host', 'ghost', ...e]);
    const list = await runCli(['port', 'list', '--host', 'ghost', ...e]);
    t.deepEqual([status.code, list.code], [1, 1]);
    t.is(list.err, 'spp port list: no keys for host ghost under /spp/openstack/\n');
    t.is((await runCli(['config', 'build', '--host', 'known', '--mappings', SEED, ...e])).code, 0);
    t.deepEqual(
      [(await runCli(['status', '--host', 'known', ...e])).code, (await runCli(['port', 'list', '--host', 'known', ...e])).code],
      [0, 0],
      'a known host without ports',
    );
    const bad = '00:04.0#phys1#2#xfe';
    const build = await runCli(['config', 'build', '--host', 'h', '--mappings', bad, ...e]);
    const sim = await runCli(['sim', '--listen', '127.0.0.1:0', '--mappings', bad]);
    t.deepEqual([build.code, sim.code], [2, 2], `${build.err} ${sim.err}`);
  });
});

test('spp completion bash: generated from the command table, completing commands, options and format values in bash', async (t) => {
  const script = (await runCli(['completion', 'bash'])).out;
  const dir = mkdtempSync(join(tmpdir(), 'spp-completion-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'spp.bash'), script);
  const complete = async (...words: string[]): Promise<string[]> => {
    const line = `source ${join(dir, 'spp.bash')}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _spp; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await run('bash', ['-c', line]);
    return stdout.split('\n').filter((l) => l !== '');
  };
  t.deepEqual(await complete('spp', 'sta'), ['status']);
  t.deepEqual(await complete('spp', 'config', 'b'), ['build']);
  t.deepEqual(await complete('spp', 'com'), ['completion']);
  t.deepEqual(await complete('spp', 'status', '--fo'), ['--format']);
  t.deepEqual(await complete('spp', 'status', '-o', 'j'), ['json']);
  t.deepEqual(await complete('spp', 'machines', 'export', '--format', 'd'), ['dot']);
  t.deepEqual(await complete('spp', 'agent', '--lease'), ['--lease-ttl']);
  t.deepEqual(await complete('spp', 'port', 'bind', '--skip'), ['--skip-liveness-check']);
  const zsh = (await runCli(['completion', 'zsh'])).out;
  t.regex(zsh, /bashcompinit/);
  t.true(zsh.includes('complete -F _spp spp'));
  t.is((await runCli(['completion'])).code, 2);
});
