/**
 * The routine-resync rule shared by the NIC and the mirror processes: the
 * periodic resync that sends nothing is logged at debug, a first build and a
 * repair that sent commands are news.
 */
import test from 'ava';
import { routineResync } from '../src/agent/process-watch';

const snap = (tags: readonly string[], commands = 0) => ({
  hasTag: (t: string) => tags.includes(t),
  context: { lastCommands: Array.from({ length: commands }) },
});
const building = snap(['running']);
const up = (commands = 0) => snap(['up'], commands);
const retrying = snap(['retrying']);

test('a first build is news; the resync after it that sends nothing is routine both ways', (t) => {
  const isRoutine = routineResync();
  t.false(isRoutine(building), 'first build');
  t.false(isRoutine(up(5)), 'first ready, 5 commands');
  t.true(isRoutine(building), 'resync: building again after up');
  t.true(isRoutine(up(0)), 'resync: ready again, nothing sent');
});

test('a resync that had to send commands (a repair) ends as news; so does a failure and the build after it', (t) => {
  const isRoutine = routineResync();
  isRoutine(building);
  isRoutine(up(3));
  t.true(isRoutine(building));
  t.false(isRoutine(up(2)), 'the repair sent 2 commands');
  t.false(isRoutine(retrying), 'retrying is never routine');
  t.false(isRoutine(building), 'a build after a failure (not after up)');
});

test('each tracker holds its own process: a second one starts fresh', (t) => {
  const a = routineResync();
  a(building);
  a(up(1));
  const b = routineResync();
  t.true(a(building));
  t.false(b(building), 'b never was up');
});
