import { spawn } from 'node:child_process';
import { join } from 'node:path';
import test from 'ava';
import { FIXTURES } from './helpers/fixtures';
import { until } from './helpers/system';

const BIN = join(__dirname, '..', '..', 'bin', 'spp.js');
const FIXTURE = join(FIXTURES, 'seed-one-plugged.etcdctl.txt');

test("spp viz --replay serves the replay's frames and stops on SIGINT", async (t) => {
  const child = spawn(process.execPath, [BIN, 'viz', '--replay', FIXTURE, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await until(() => /visualizer (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], 'the URL', 20_000);
  const { frames } = (await (await fetch(`${url}/api/frames`)).json()) as {
    frames: Array<{ view: { host: string; ports: Array<{ portId: string; state: string }> } }>;
  };
  t.true(frames.length > 0);
  const last = frames[frames.length - 1]!.view;
  t.is(last.host, 'spp4');
  t.deepEqual(
    last.ports.map((p) => [p.portId, p.state.split('.')[0]]),
    [['6160c9da-b2d5-4236-8413-7d646e5c0ae2', 'plugged']],
  );
  t.is((await fetch(`${url}/api/frames`, { method: 'POST' })).status, 405, 'read-only');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  t.is(await exited, 0);
});

test('spp viz without --replay is a usage error', async (t) => {
  const child = spawn(process.execPath, [BIN, 'viz'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.is(code, 2);
  t.regex(err, /--replay/);
});
