import { join } from 'node:path';
import test from 'ava';
import { FIXTURES } from './helpers/fixtures';
import { spawnNode } from './helpers/spawn';

const FIXTURE = join(FIXTURES, 'seed-one-plugged.etcdctl.txt');

test("spp viz --replay serves the replay's frames and stops on SIGINT", async (t) => {
  const viz = spawnNode(t, ['viz', '--replay', FIXTURE, '--listen', '127.0.0.1:0']);
  const [, url] = await viz.waitFor(/visualizer (http:\/\/127\.0\.0\.1:\d+)/, 'the URL');
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
  viz.child.kill('SIGINT');
  t.is(await viz.exited, 0);
});

test('spp viz without --replay is a usage error', async (t) => {
  const viz = spawnNode(t, ['viz']);
  t.is(await viz.exited, 2);
  t.regex(viz.text(), /--replay/);
});
