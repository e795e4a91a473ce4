/**
 * The floor-relative goals of issue 32 (scripts/bench/floor-goals.ts): each
 * passes at its limit, fails just above it, and its detail names the ratio.
 */
import test from 'ava';
import { flatPlugGoal, historyGoal, snapshotGoal, vlanPlugGoal } from '../scripts/bench/floor-goals';

test('flat plug: within 1.15x of the same run floor', (t) => {
  t.true(flatPlugGoal(2.3, 2).pass);
  t.false(flatPlugGoal(2.31, 2).pass);
  const g = flatPlugGoal(3, 2);
  t.regex(g.name, /within 1\.15x the floor/);
  t.is(g.detail, '3.00 ms vs floor 2.00 ms (1.50x)');
});

test('VLAN plug: the floor plus one request floor per request beyond the first, same tolerance', (t) => {
  // 2 ms + 4 x 0.5 ms = 4 ms; 1.15 x 4 = 4.6 ms
  t.true(vlanPlugGoal(4.6, 2, 5, 0.5).pass);
  t.false(vlanPlugGoal(4.61, 2, 5, 0.5).pass);
  t.regex(vlanPlugGoal(5, 2, 5, 0.5).detail, /vs 4\.00 ms = floor 2\.00 ms \+ 4 more requests of 0\.50 ms \(1\.25x\)$/);
  // one request: the flat floor itself
  t.true(vlanPlugGoal(2.3, 2, 1, 0.5).pass);
  t.false(vlanPlugGoal(2.31, 2, 1, 0.5).pass);
});

test('history replay: within 1.5x its read plus its machine floor', (t) => {
  t.true(historyGoal(10_000, 1500, 400, 600).pass);
  t.false(historyGoal(10_000, 1501, 400, 600).pass);
  const g = historyGoal(10_000, 2000, 400, 600);
  t.regex(g.name, /10,000-revision history within 1\.5x/);
  t.is(g.detail, '2000 ms vs 1000 ms = read 400 ms + machines 600 ms (2.00x)');
  // a floor not measured is a failure, never a pass
  t.false(historyGoal(10_000, 1000, Number.NaN, Number.NaN).pass);
});

test('snapshot replay: within 2x its machine floor per thread', (t) => {
  t.true(snapshotGoal('the snapshot', 3000, 1500, 2).pass);
  t.false(snapshotGoal('the snapshot', 3001, 1500, 2).pass);
  t.is(snapshotGoal('the snapshot', 6000, 1500, 2).detail, '6.00 s vs 1.50 s for 1/2 of its machines alone (4.00x)');
  t.false(snapshotGoal('the snapshot', 1000, Number.NaN, 2).pass);
});
