/**
 * `spp sim`: usage errors exit 2 naming the option; the server prints its URL
 * and vfs, serves spp-ctl's API and exits 0 on SIGTERM.
 */

import { spawn } from 'node:child_process';
import path from 'node:path';
import test from 'ava';
import { main } from '../src/cli/main';

const BIN = path.resolve(__dirname, '../../bin/spp.js');

async function runMain(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    env: {},
  });
  return { code, out, err };
}

const usage: [string[], RegExp][] = [
  [['sim'], /give --mappings .* or at least one --vf ID:COREMASK/],
  [['sim', '--vf', '1'], /--vf must be ID:COREMASK/],
  [['sim', '--vf', '1:0xzz'], /not a hex core mask/],
  [['sim', '--vf', '1:0x1'], /only the master core/],
  [['sim', '--vf', '1:0x1fe', '--vf', '1:0xfe00'], /client id 1 is given twice/],
  [['sim', '--listen', 'nowhere', '--vf', '1:0x1fe'], /--listen must be HOST:PORT/],
  [['sim', '--mappings', '00:04.0#phys1#2'], /--mappings: NIC entry 1/],
  [['sim', '--vf', '1:0x1fe', '--appear-after', '2:100'], /there is no vf 2/],
  [['sim', '--vf', '1:0x1fe', '--poll-interval', 'soon'], /--poll-interval must be a number/],
  [['sim', '--vf', '1:0x1fe', '--spp-version', '19.12'], /--spp-version must be one of 18\.08, .*19\.11, got "19\.12"/],
  [['sim', '--vf', '1:0x1fe', '--mirror', '2'], /--mirror must be ID:COREMASK/],
  [['sim', '--vf', '1:0x1fe', '--mirror', '2:0x1'], /--mirror 2:0x1: core mask 0x1 has only the master core/],
  [['sim', '--vf', '1:0x1fe', '--mirror', '1:0x30002'], /--mirror: client id 1 is given twice/],
  [['sim', '--vf', '1:0x1fe', '--mirror', '2:0x30002', '--mirror', '2:0xc0002'], /--mirror: client id 2 is given twice/],
];

for (const [argv, message] of usage) {
  test(`spp ${argv.join(' ')}: usage error, exit 2`, async (t) => {
    const r = await runMain(argv);
    t.is(r.code, 2);
    t.regex(r.err, message);
  });
}

test('spp sim --help describes the command', async (t) => {
  const r = await runMain(['sim', '--help']);
  t.is(r.code, 0);
  t.regex(r.out, /spp-ctl emulator/);
  t.regex(r.out, /--lenient/);
  t.regex(r.out, /--spp-version RELEASE/);
  t.regex(r.out, /--mirror ID:COREMASK/);
});

test('spp sim serves until SIGTERM and exits 0', async (t) => {
  const argv = [BIN, 'sim', '--listen', '127.0.0.1:0', '--mappings', '00:04.0#phys1#2#0xfe', '--mirror', '2:0x30002', '--log-level', 'debug'];
  const child = spawn(process.execPath, argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && out.includes('serving')) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`exited early: ${out} ${err}`)));
  });
  t.regex(out, /serving vf 1 \(core mask 0xfe\), mirror 2 \(core mask 0x30002\)/);
  const res = await fetch(`${url}/v1/processes`);
  t.is(await res.text(), '[{"type": "primary"}, {"type": "vf", "client-id": 1}, {"type": "mirror", "client-id": 2}]');
  // the rings after the vhosts' are the mirror's: ring:4 exists (4 vhost rings + 4)
  await fetch(`${url}/v1/mirrors/2/components`, { method: 'POST', body: JSON.stringify({ name: 'mirror_0', core: 16, type: 'mirror' }) });
  const attached = await fetch(`${url}/v1/mirrors/2/components/mirror_0/ports`, {
    method: 'PUT',
    body: JSON.stringify({ action: 'attach', port: 'ring:7', dir: 'tx' }),
  });
  t.is(attached.status, 204);
  t.is(
    await (await fetch(`${url}/v1/mirrors/2`)).text(),
    '{"client-id": 2, "ports": ["phy:0", "ring:7"], "components": [{"core": 16, "name": "mirror_0", "type": "mirror", "rx_port": [], "tx_port": [{"port": "ring:7", "vlan": {"operation": "none", "id": 0, "pcp": 0}}]}, {"core": 17, "type": "unuse"}]}',
  );
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.is(await exit, 0);
  t.regex(err, /request.*\/v1\/processes/);
});

test('spp sim --spp-version 19.11 serves that release: master-lcore in the status, the classifier spelled classifier', async (t) => {
  const child = spawn(process.execPath, [BIN, 'sim', '--listen', '127.0.0.1:0', '--mappings', '00:04.0#phys1#2#0xfe', '--spp-version', '19.11'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+) \(SPP 19\.11\)/.exec(out);
      if (m && out.includes('serving')) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  const post = (type: string) =>
    fetch(`${url}/v1/vfs/1/components`, { method: 'POST', body: JSON.stringify({ name: 'classifier', core: 6, type }) }).then((r) => r.status);
  t.is(await post('classifier_mac'), 500);
  t.is(await post('classifier'), 204);
  const status = (await (await fetch(`${url}/v1/vfs/1`)).json()) as Record<string, unknown>;
  t.deepEqual(Object.keys(status), ['client-id', 'ports', 'master-lcore', 'components', 'classifier_table']);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.is(await exit, 0);
});
