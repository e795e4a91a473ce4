import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { portMachine } from '../machines/port';
import { toDot, toMermaid } from '../src/viz/graph-format';
import { machineGraph } from '../src/viz/machine-graph';
import { runCli } from './helpers/cli';

test('spp machines export --format mermaid --machine port prints the port machine diagram', async (t) => {
  const r = await runCli(['machines', 'export', '--format', 'mermaid', '--machine', 'port']);
  t.is(r.code, 0, r.err);
  t.is(r.err, '');
  t.is(r.out, toMermaid(machineGraph(portMachine)));
  t.regex(r.out, /plugging --> plugged : done\(plug\)\n/);
});

test('spp machines export --format dot and json; --machine all', async (t) => {
  const dot = await runCli(['machines', 'export', '--format', 'dot', '--machine', 'port']);
  t.is(dot.code, 0);
  t.is(dot.out, toDot(machineGraph(portMachine)));
  const json = await runCli(['machines', 'export', '--format', 'json']);
  t.is(json.code, 0);
  const all = JSON.parse(json.out) as Record<string, { id: string; states: Array<{ id: string }> }>;
  t.deepEqual(Object.keys(all), ['port', 'nic', 'agent']);
  t.true(all.port!.states.some((s) => s.id === 'plugged.steady'));
  const mermaid = await runCli(['machines', 'export']);
  t.is(mermaid.code, 0);
  t.is(mermaid.out.match(/^stateDiagram-v2$/gm)?.length, 3, 'one diagram per machine by default');
  t.regex(mermaid.out, /^%% machine nic$/m);
});

test('spp machines export --output writes the file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'spp-machines-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'port.mmd');
  const r = await runCli(['machines', 'export', '--machine', 'port', '--output', file]);
  t.is(r.code, 0, r.err);
  t.is(r.out, '');
  t.is(readFileSync(file, 'utf8'), toMermaid(machineGraph(portMachine)));
  const bad = await runCli(['machines', 'export', '--output', join(dir, 'no', 'such', 'dir', 'x')]);
  t.is(bad.code, 1);
  t.regex(bad.err, /cannot write --out .*no\/such\/dir/);
});

test('spp machines export: usage errors exit 2 naming the option; --help exits 0', async (t) => {
  const format = await runCli(['machines', 'export', '--format', 'png']);
  t.is(format.code, 2);
  t.regex(format.err, /--format must be one of mermaid, dot, json, got "png"/);
  const machine = await runCli(['machines', 'export', '--machine', 'router']);
  t.is(machine.code, 2);
  t.regex(machine.err, /--machine must be one of port, nic, agent, all/);
  const extra = await runCli(['machines', 'export', 'port']);
  t.is(extra.code, 2);
  t.regex(extra.err, /unexpected argument "port"/);
  const help = await runCli(['machines', 'export', '--help']);
  t.is(help.code, 0);
  t.regex(help.out, /usage: spp machines export/);
  t.regex(help.out, /--format mermaid\|dot\|json/);
});

test('docs/visualizer.md shows the port machine exactly as spp machines export prints it today', (t) => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'visualizer.md'), 'utf8');
  t.true(doc.includes(`\`\`\`mermaid\n${toMermaid(machineGraph(portMachine))}\`\`\``), 'regenerate with: spp machines export --format mermaid --machine port');
});
