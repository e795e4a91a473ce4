/**
 * `spp report` with tap flows (TaaS), against a real etcd, the emulator's
 * spp_vfs and spp_mirror and the agent: the mirror's status as spp-ctl
 * returned it, the flows with their verdicts and the agent's machines, and
 * `spp explain --tap-flow-id` of each.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { MirrorStatus } from '../src/sppctl/wire';
import { runCli } from './helpers/cli';
import { opsUrl } from './helpers/ops';
import { conflictingTap, createUpTap, startTapSystem, tapPorts } from './helpers/tap-system';

const PORTS = tapPorts('e0000000');

test('spp report: the spp_mirror, every tap flow with its verdict and machine, and their explanations', async (t) => {
  const s = await startTapSystem(t, PORTS, { ops: '127.0.0.1:0' });
  const ops = await opsUrl(s.agent);
  await createUpTap(t, s, PORTS, 'tf-out', 'OUT');
  await conflictingTap(s, PORTS, 'tf-dup', 'OUT');
  await s.agent!.controller.idle();

  const dir = mkdtempSync(join(tmpdir(), 'spp-report-taps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'r.tar.gz');
  const run = await runCli(['report', '--host', s.host, '--out', out], {
    SPP_ETCD_ENDPOINTS: s.etcd.endpoints.join(','),
    SPP_OPS: ops.replace('http://', ''),
    SPP_CTL_URL: s.sim.url,
  });
  t.is(run.code, 0, run.err);
  for (const part of ['sppctl/mirror-3.json', 'taps.txt', 'explain-taps.txt', 'explain-taps.json'])
    t.regex(run.out, new RegExp(`^ {2}${part.replace('.', '\\.')} `, 'm'), part);
  execFileSync('tar', ['-xzf', out, '-C', dir]);
  const top = execFileSync('tar', ['-tzf', out]).toString().split('/')[0]!;
  const read = (p: string): string => readFileSync(join(dir, top, p), 'utf8');

  const mirror = JSON.parse(read('sppctl/mirror-3.json')) as MirrorStatus;
  const m0 = mirror.components.find((c) => 'name' in c && c.name === 'mirror_0') as { rx_port: { port: string }[]; tx_port: { port: string }[] };
  t.deepEqual(
    m0.rx_port.map((p) => p.port),
    ['ring:9'],
  );
  const taps = read('taps.txt');
  t.regex(taps, new RegExp(`^spp_mirror 3 \\(GET ${s.sim.url}/v1/mirrors/3\\):\\n {2}mirror_0 \\(core 16\\): rx ring:9; tx ring:8, ring:5$`, 'm'), taps);
  t.regex(taps, /^the agent's spp_mirror 3: ready/m);
  t.regex(taps, /^ {2}tf-dup: NOT UP \(conflict\); agent machine failed\.reported, last error: .*already mirrors OUT/m);
  t.regex(taps, /^ {2}tf-out: UP \(up\); agent machine up(\.\w+)?, OUT$/m);
  const explained = read('explain-taps.txt');
  t.regex(explained, /^tap flow tf-out on host spp4: UP \(up; etcd revision \d+\)$/m);
  t.regex(explained, /^ {4}OUT: forward_2_rx \(spp_vf 2\) gave tx ring:5/m);
  t.deepEqual(
    (JSON.parse(read('explain-taps.json')) as Array<{ tapFlowId: string; verdict: string }>).map((e) => [e.tapFlowId, e.verdict]),
    [
      ['tf-dup', 'conflict'],
      ['tf-out', 'up'],
    ],
  );
});
