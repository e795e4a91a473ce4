import test from 'ava';
import { createActor, fromPromise } from 'xstate';
import { nicMachine } from '../machines/nic';
import { portMachine } from '../machines/port';
import { leafStateTags, stateName } from '../machines/state-name';
import { NIC_TAGS, PORT_TAGS, TAP_TAGS } from '../machines/tags';
import { tapMachine } from '../machines/tap';

// The whole table on purpose: a renamed, added or retagged state fails here, and
// whoever changes it decides what idle detection, metrics, logs and the page ask.
test('every port state with its tags', (t) => {
  t.deepEqual(Object.fromEntries(leafStateTags(portMachine.root)), {
    evaluating: ['busy', 'deciding'],
    idle: ['free'],
    waitingForNic: ['waiting'],
    plugging: ['busy', 'running'],
    'plugged.reasserting': ['up'],
    'plugged.steady': ['up'],
    unplugging: ['busy', 'running', 'removing'],
    backoff: ['retrying'],
    'failed.reporting': ['failed', 'busy'],
    'failed.reportRetry': ['failed'],
    'failed.reported': ['failed'],
    removed: ['free'],
  });
});

test('every NIC state with its tags', (t) => {
  t.deepEqual(Object.fromEntries(leafStateTags(nicMachine.root)), {
    waitingForVf: ['busy'],
    building: ['busy', 'running'],
    retryWait: ['retrying'],
    ready: ['up'],
    stopped: ['stopped'],
  });
});

test('every tap flow state with its tags', (t) => {
  t.deepEqual(Object.fromEntries(leafStateTags(tapMachine.root)), {
    evaluating: ['busy', 'deciding'],
    idle: ['free'],
    waiting: ['waiting'],
    plugging: ['busy', 'running'],
    up: ['up'],
    unplugging: ['busy', 'running', 'removing'],
    backoff: ['retrying'],
    'failed.reporting': ['failed', 'busy'],
    'failed.reportRetry': ['failed'],
    'failed.reported': ['failed'],
    removed: ['free'],
  });
});

test('every state has a tag, and every declared tag names some state', (t) => {
  for (const [machine, declared] of [
    [portMachine, PORT_TAGS],
    [nicMachine, NIC_TAGS],
    [tapMachine, TAP_TAGS],
  ] as const) {
    const table = leafStateTags(machine.root);
    for (const [state, tags] of table) t.true(tags.length > 0, `${machine.id} state ${state} has no tag`);
    const used = new Set([...table.values()].flat());
    t.deepEqual([...used].sort(), [...declared].sort(), `${machine.id}: the tags in use are the declared ones`);
  }
});

test("a running machine's snapshot carries the tags the table lists for its state", async (t) => {
  let release: () => void = () => undefined;
  const port = createActor(
    portMachine.provide({
      actors: {
        plug: fromPromise(
          () =>
            new Promise((resolve) => {
              release = () => resolve({ commands: [] });
            }),
        ),
      },
    }),
    {
      input: {
        host: 'h',
        portId: 'p',
        revision: 1,
        intent: { kind: 'plug', place: { vhostId: 0, secId: 1 }, rule: { mac: 'fa:16:3e:00:00:01' } },
        timers: { reassertMs: [], backoffBaseMs: 1, backoffMaxMs: 1 },
      },
    },
  );
  port.start();
  const table = leafStateTags(portMachine.root);
  const seen: string[] = [];
  const check = (): void => {
    const snap = port.getSnapshot();
    const name = stateName(snap.value);
    seen.push(name);
    t.deepEqual([...snap.tags].sort(), [...(table.get(name) ?? [])].sort(), name);
  };
  check();
  release();
  await new Promise((resolve) => setImmediate(resolve));
  check();
  t.deepEqual(seen, ['plugging', 'plugged.steady']);
  t.true(port.getSnapshot().hasTag('up'));
  port.stop();
});
