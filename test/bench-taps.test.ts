/**
 * The TaaS bench (scripts/bench/taps.ts) at a short poll: the breaks it
 * measures from the emulator's answer times are the plan's tick model's for
 * upstream's serial order and at most one tick more for ours, and its
 * figures and goals reach the bench's report.
 */
import test from 'ava';
import { Report } from '../scripts/bench/report';
import { benchTaps, reportTapsInto } from '../scripts/bench/taps';

test('tap bench at poll 250: measured breaks are as the tick model says (ours at most one tick more), serial sends 3 GETs more per run, every figure and goal is reported', async (t) => {
  const rows = await benchTaps(250);
  t.deepEqual(
    rows.map((r) => r.direction),
    ['IN', 'OUT', 'BOTH'],
  );
  for (const r of rows) {
    const commands = r.direction === 'BOTH' ? 12 : 6;
    for (const op of ['create', 'delete'] as const) {
      const label = `${r.direction} ${op}`;
      t.is(r.ours[op].commands, commands, `${label}: ours sends each step once`);
      t.is(r.serial[op].commands, commands, label);
      // the model is ours at best: when the mirror's answer to another step is handled before the vf's answer to the break,
      // the mirror is already busy when the mend could go, and the break lasts one tick more (docs/performance.md)
      for (const [leg, ticks] of Object.entries(r.ours[op].modelBroken)) {
        const measured = r.ours[op].broken[leg]!;
        t.true(measured >= ticks && measured <= ticks + 1, `${label} ${leg}: ours measured ${measured}, modelled ${ticks}`);
      }
      t.deepEqual(r.serial[op].broken, r.serial[op].modelBroken, `${label}: serial measured as modelled`);
      t.true(Object.keys(r.ours[op].broken).length === (r.direction === 'BOTH' ? 2 : 1), label);
      // the ticks are the ms rounded to the poll period
      for (const who of ['ours', 'serial'] as const)
        for (const [leg, ms] of Object.entries(r[who][op].brokenMs)) {
          t.true(ms >= 0, `${label} ${who} ${leg}: ${ms} ms`);
          t.is(Math.round(ms / 250), r[who][op].broken[leg], `${label} ${who} ${leg}: ${ms} ms`);
        }
      // the serial driver's time: its 3 status reads and its commands, one tick each (a little less for the first: the phase)
      t.true(r.serial[op].ms >= (commands + 2) * 250, `${label}: serial ${r.serial[op].ms} ms`);
    }
  }
  const report = new Report();
  reportTapsInto(report, rows, 250);
  t.is(report.goals.length, 12, 'two goals per direction and operation');
  t.true(report.goals.every((g) => /^taps\.(in|out|both)\.(create|delete): /.test(g.name)));
});
