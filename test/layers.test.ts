import { join } from 'node:path';
import test from 'ava';
import { checkLayers, type ImportGraph, readGraph } from '../scripts/check-layers';

const root = join(__dirname, '..', '..');
const kinds = (graph: ImportGraph): string[] => checkLayers(graph).map((v) => v.kind);

test('layers: the pure core may import itself, the protocol layer, the spp-ctl data types and xstate', (t) => {
  const graph = new Map([
    ['machines/port.ts', ['xstate', './errors', '../src/protocol/keys', '../src/sppctl/commands', '../src/plan/planner']],
    ['machines/errors.ts', []],
    ['src/plan/planner.ts', ['../sppctl/wire', '../protocol/layout']],
    ['src/protocol/keys.ts', ['io-ts']],
    ['src/protocol/layout.ts', []],
    ['src/sppctl/commands.ts', []],
    ['src/sppctl/wire.ts', []],
  ]);
  t.deepEqual(checkLayers(graph), []);
});

test('layers: the core importing an adapter, a service or another package is refused', (t) => {
  const graph = new Map([
    ['machines/port.ts', ['../src/agent/intent', 'rxjs']],
    ['src/plan/planner.ts', ['../sppctl/client', 'node:fs']],
    ['src/agent/intent.ts', []],
    ['src/sppctl/client.ts', []],
  ]);
  const found = checkLayers(graph);
  t.deepEqual(
    found.map((v) => v.kind),
    ['core-import', 'core-import', 'core-import', 'core-import'],
  );
  t.regex(found[0]!.message, /machines\/port\.ts imports \.\.\/src\/agent\/intent/);
});

test('layers: an import of a higher layer is refused, one of a lower layer is not', (t) => {
  const graph = new Map([
    ['src/daemon/daemon.ts', ['../viz/server', '../etcd/listwatch']],
    ['src/viz/server.ts', ['../daemon/daemon']],
    ['src/etcd/listwatch.ts', []],
  ]);
  const found = checkLayers(graph);
  t.deepEqual(
    found.map((v) => v.kind),
    ['upward', 'cycle'],
  );
  t.regex(found[0]!.message, /src\/daemon\/daemon\.ts \(daemon\) imports src\/viz\/server\.ts \(tools/);
});

test('layers: the reconciler importing the daemon, the ops endpoint, the visualizer or the CLI is refused', (t) => {
  const graph = new Map([
    ['src/agent/controller.ts', ['../daemon/settings', '../ops/metrics', '../viz/server', '../cli/main', '../setup/view']],
    ['src/daemon/settings.ts', []],
    ['src/ops/metrics.ts', []],
    ['src/viz/server.ts', []],
    ['src/cli/main.ts', []],
    ['src/setup/view.ts', []],
  ]);
  const found = checkLayers(graph);
  t.deepEqual(
    found.map((v) => /^src\/agent\/controller\.ts \(reconciler\) imports (\S+)/.exec(v.message)?.[1]),
    ['src/daemon/settings.ts', 'src/ops/metrics.ts', 'src/viz/server.ts', 'src/cli/main.ts'],
  );
  t.deepEqual(
    found.map((v) => v.kind),
    ['upward', 'upward', 'upward', 'upward'],
  );
});

test('layers: the ops endpoint imports the reconciler only through its interfaces', (t) => {
  const graph = new Map([
    ['src/ops/metrics.ts', ['../agent/observer', '../agent/view', '../agent/io', '../agent/controller']],
    ['src/agent/observer.ts', []],
    ['src/agent/view.ts', []],
    ['src/agent/io.ts', []],
    ['src/agent/controller.ts', []],
  ]);
  const found = checkLayers(graph);
  t.deepEqual(
    found.map((v) => v.kind),
    ['narrow'],
  );
  t.regex(found[0]!.message, /^src\/ops\/metrics\.ts imports src\/agent\/controller\.ts: src\/ops\/ imports of src\/agent\/ only src\/agent\/io\.ts, /);
});

test('layers: an import cycle within one layer is found, and a module outside every layer is named', (t) => {
  t.deepEqual(
    kinds(
      new Map([
        ['src/replay/engine.ts', ['./pool']],
        ['src/replay/pool.ts', ['./engine']],
        ['src/newthing/x.ts', []],
      ]),
    ),
    ['unlayered', 'cycle'],
  );
});

test('layers: the tree itself is read (every product module, with its imports)', (t) => {
  const graph = readGraph(root);
  t.true(graph.has('machines/port.ts'));
  t.true(graph.has('src/plan/planner.ts'));
  t.true((graph.get('src/plan/planner.ts') ?? []).length > 0);
});

test('layers: the tree keeps the rule (no core import, no upward import, no cycle)', (t) => {
  t.deepEqual(
    checkLayers(readGraph(root)).map((v) => v.message),
    [],
  );
});
