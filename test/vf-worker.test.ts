/**
 * VfWorker's status cache: it follows every successful command as
 * applyCommand would one command at a time (folded in when read), drops the
 * cache on a failure while keeping what was known, and a re-read replaces it.
 */
import test from 'ava';
import type { SppCtlApi } from '../src/agent/io';
import { VfWorker } from '../src/agent/vf-worker';
import { applyCommand, emptyStatus } from '../src/plan/observed';
import type { SppCommand } from '../src/sppctl/commands';
import type { VfStatus } from '../src/sppctl/wire';
import { sleep } from './helpers/wait';

const start = (name: string, core: number): SppCommand => ({ op: 'component_start', secId: 1, name, core, type: 'forward' });
const attach = (component: string, port: string): SppCommand => ({ op: 'port_attach', secId: 1, component, port, dir: 'rx' });
const fresh = (): VfStatus => emptyStatus(1, [2, 3, 4], ['phy:0']);

/** An spp-ctl that answers statuses from a list and fails the commands named. */
function fakeSppCtl(statuses: VfStatus[], failing: readonly SppCommand[] = []): SppCtlApi & { reads: number; sent: SppCommand[] } {
  const api = {
    reads: 0,
    sent: [] as SppCommand[],
    processes: async () => [],
    vfStatus: async () => {
      api.reads++;
      const s = statuses.shift();
      if (!s) throw new Error('no status left');
      return s;
    },
    send: async (cmd: SppCommand) => {
      api.sent.push(cmd);
      if (failing.includes(cmd)) throw Object.assign(new Error('command error'), { status: 400 });
    },
    mirrorStatus: async () => {
      throw new Error('no mirror in this test');
    },
    sendMirror: async () => {
      throw new Error('no mirror in this test');
    },
  };
  return api;
}

test('the cached status follows each successful command, in order, without reading the vf again', async (t) => {
  const api = fakeSppCtl([fresh()]);
  const worker = new VfWorker(1, api);
  const texts: string[] = [];
  const w = new VfWorker(1, api, (_cmd, text) => texts.push(text));
  t.is(w.status, undefined);
  const before = await w.currentStatus();
  const cmds = [start('forward_0_rx', 3), start('forward_0_tx', 2), attach('forward_0_rx', 'vhost:0'), attach('forward_0_tx', 'ring:1')];
  const done = await w.execute(cmds);
  t.deepEqual(done.commands, texts);
  t.is(texts[0], 'vf 1: component start forward_0_rx 3 forward');
  const expected = cmds.reduce(applyCommand, before);
  t.deepEqual(w.status, expected);
  t.deepEqual(await w.currentStatus(), expected);
  t.deepEqual(w.lastKnown, expected);
  t.is(api.reads, 1);
  t.is(worker.status, undefined, 'a worker that never read has no status');
});

test('a failed command drops the cache but keeps what the successes before it made known; a re-read replaces both', async (t) => {
  const failing = attach('forward_0_rx', 'vhost:0');
  const reread = { ...fresh(), ports: ['phy:0', 'vhost:0'] };
  const api = fakeSppCtl([fresh(), reread], [failing]);
  const w = new VfWorker(1, api);
  const before = await w.currentStatus();
  const run = await w.attempt([start('forward_0_rx', 3), failing, start('forward_0_tx', 2)]);
  t.deepEqual(run.commands, ['vf 1: component start forward_0_rx 3 forward']);
  t.is(run.failed && (run.failure as Error).message, 'command error');
  t.is(api.sent.length, 2, 'nothing is sent after the failure');
  t.is(w.status, undefined);
  t.deepEqual(w.lastKnown, applyCommand(before, start('forward_0_rx', 3)));
  // without a cache, successes are not folded into what is known
  await w.execute([start('forward_0_tx', 2)]);
  t.deepEqual(w.lastKnown, applyCommand(before, start('forward_0_rx', 3)));
  t.deepEqual(await w.currentStatus(), reread);
  t.deepEqual(w.lastKnown, reread);
  t.is(api.reads, 2);
});

test('execute throws the failure that stopped it; the commands before it were sent', async (t) => {
  const failing = attach('forward_0_rx', 'vhost:0');
  const api = fakeSppCtl([fresh()], [failing]);
  const w = new VfWorker(1, api);
  const err = await t.throwsAsync(w.execute([start('forward_0_rx', 3), failing, start('forward_0_tx', 2)]));
  t.is(err?.message, 'command error');
  t.deepEqual(api.sent, [start('forward_0_rx', 3), failing]);
  t.deepEqual((await w.execute([start('forward_0_tx', 2)])).commands, ['vf 1: component start forward_0_tx 2 forward']);
});

test('not ready drops the cache; refresh reads again', async (t) => {
  const second = { ...fresh(), ports: ['phy:0', 'ring:0'] };
  const api = fakeSppCtl([fresh(), second, fresh()]);
  const w = new VfWorker(1, api);
  await w.currentStatus();
  await w.execute([start('forward_0_rx', 3)]);
  w.setReady(false, 'resync');
  t.is(w.status, undefined);
  t.is(w.notReadyReason, 'resync');
  t.deepEqual(await w.currentStatus(), second);
  t.deepEqual(await w.refresh(), fresh());
  t.is(api.reads, 3);
});

/**
 * Tasks queued behind one that holds the worker, each with a plan size:
 * returns the order they ran in, and how many commands ran before each.
 */
async function runOrder(
  sizes: readonly (number | undefined)[],
  opts: { later?: readonly number[] } = {},
): Promise<{ order: string[]; waited: Map<string, number> }> {
  const w = new VfWorker(1, fakeSppCtl([]));
  const order: string[] = [];
  const waited = new Map<string, number>();
  let commands = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const all: Promise<unknown>[] = [w.exclusive(() => gate)];
  const task = (name: string, size: number | undefined): Promise<unknown> => {
    const run = async (): Promise<void> => {
      waited.set(name, commands);
      order.push(name);
      commands += size ?? 1;
      await sleep(5);
    };
    return size === undefined ? w.exclusive(run) : w.planned(() => size, run);
  };
  sizes.forEach((size, i) => {
    all.push(task(String.fromCharCode(65 + i), size));
  });
  await new Promise((r) => setImmediate(r));
  release();
  // tasks that arrive once the first plans have run
  for (const [i, size] of (opts.later ?? []).entries()) {
    await new Promise((r) => setImmediate(r));
    all.push(task(`late${i}`, size));
  }
  await Promise.all(all);
  return { order, waited };
}

test('queue order: a 1-command plan is not stuck behind 5-command plans', async (t) => {
  const { order, waited } = await runOrder([5, 5, 1]);
  t.deepEqual(order, ['C', 'A', 'B']);
  t.is(waited.get('C'), 0);
  t.is(waited.get('A'), 1, 'A waited for one other plan (C) more than in arrival order');
});

test('queue order: a plan is passed at most once, so nobody waits more than arrival order plus one plan', async (t) => {
  // A (5) would be passed by every 1-command plan; it is passed by B only
  const { order, waited } = await runOrder([5, 1, 1, 1]);
  t.deepEqual(order, ['B', 'A', 'C', 'D']);
  t.is(waited.get('A'), 1);
  // a property over many shapes: each task's wait <= its wait in arrival order + the largest single plan that passed it
  const shapes: number[][] = [
    [3, 5, 1, 2, 1, 5],
    [5, 5, 5, 1, 1, 1],
    [1, 5, 1, 5, 1, 5],
    [2, 2, 1, 1, 0, 3],
  ];
  for (const sizes of shapes) {
    const r = await runOrder(sizes);
    sizes.forEach((_, i) => {
      const name = String.fromCharCode(65 + i);
      const fifo = sizes.slice(0, i).reduce((a, b) => a + b, 0);
      const passedBy = r.order.slice(0, r.order.indexOf(name)).filter((n) => n.charCodeAt(0) - 65 > i);
      t.true(passedBy.length <= 1, `${sizes.join(',')}: ${name} passed by ${passedBy.join(',')}`);
      const extra = passedBy.map((n) => sizes[n.charCodeAt(0) - 65]!).reduce((a, b) => a + b, 0);
      t.true(r.waited.get(name)! <= fifo + extra, `${sizes.join(',')}: ${name} waited ${r.waited.get(name)}`);
      t.true(extra <= sizes[i]!, 'only a shorter plan passes');
    });
  }
});

test('queue order: a task of unknown size (a NIC build) is neither passed nor passes', async (t) => {
  const { order } = await runOrder([5, undefined, 1]);
  t.deepEqual(order, ['A', 'B', 'C']);
  const late = await runOrder([5, 5], { later: [1] });
  // the late 1-command plan arrives while A runs: it goes before B
  t.deepEqual(late.order, ['A', 'late0', 'B']);
});
