/** `spp viz --etcd-endpoints`: the option handling of the cluster view (the page itself: viz-browser-cluster). */
import test from 'ava';
import { parseAgentUi } from '../src/cli/commands/viz-cluster';
import { runCli } from './helpers/cli';

test('--agent-ui takes HOST=URL, repeated or comma-separated', (t) => {
  const map = parseAgentUi({ 'agent-ui': ['spp4=http://127.0.0.1:7780', 'spp5=http://127.0.0.1:7781/,spp6=https://[::1]:7782/'] });
  t.deepEqual(
    [...map],
    [
      ['spp4', 'http://127.0.0.1:7780/'],
      ['spp5', 'http://127.0.0.1:7781/'],
      ['spp6', 'https://[::1]:7782/'],
    ],
  );
});

for (const [arg, message] of [
  ['spp4', /give HOST=URL/],
  ['=http://127.0.0.1:1/', /give HOST=URL/],
  ['spp4=127.0.0.1:7780', /not a URL/],
  ['spp4=ftp://127.0.0.1/', /must be http/],
] as const) {
  test(`--agent-ui ${arg} is a usage error naming the option`, async (t) => {
    const run = await runCli(['viz', '--etcd-endpoints', '127.0.0.1:1', '--agent-ui', arg]);
    t.is(run.code, 2);
    t.regex(run.err, /--agent-ui/);
    t.regex(run.err, message);
  });
}

test('the cluster view takes no INPUT files', async (t) => {
  const run = await runCli(['viz', '--etcd-endpoints', '127.0.0.1:1', 'snapshot.txt']);
  t.is(run.code, 2);
  t.regex(run.err, /takes no INPUT files; did you mean --replay\?/);
});

test('--help tells of the cluster view', async (t) => {
  const run = await runCli(['viz', '--help']);
  t.is(run.code, 0);
  t.regex(run.out, /--etcd-endpoints/);
  t.regex(run.out, /--agent-ui HOST=URL/);
});
