/**
 * lazySignalPromise against xstate's own fromPromise: the same snapshots and
 * the same done/error events to an invoking machine, and a signal that is
 * aborted on stop when a run asked for it.
 */
import test from 'ava';
import { AnyActorLogic, createActor, fromPromise, setup, waitFor } from 'xstate';
import { lazySignalPromise } from '../src/agent/promise-actor';

/** A machine that invokes `run` and records its outcome in the context. */
function invoking(run: AnyActorLogic) {
  return setup({ actors: { run } }).createMachine({
    context: { outcome: '' },
    initial: 'running',
    states: {
      running: {
        invoke: {
          src: 'run',
          input: () => 21,
          onDone: { target: 'done', actions: ({ event }) => void (outcomeOf.last = `done ${String(event.output)}`) },
          onError: { target: 'failed', actions: ({ event }) => void (outcomeOf.last = `error ${(event.error as Error).message}`) },
        },
        on: { QUIT: 'quit' },
      },
      done: {},
      failed: {},
      quit: {},
    },
  });
}
const outcomeOf = { last: '' };

for (const [name, make] of [
  ['fromPromise', fromPromise as unknown as typeof lazySignalPromise],
  ['lazySignalPromise', lazySignalPromise],
] as const) {
  test.serial(`${name}: an invoked run's output and failure reach the machine`, async (t) => {
    const ok = createActor(invoking(make<number, number>(async ({ input }) => input * 2))).start();
    await waitFor(ok, (s) => s.matches('done'));
    t.is(outcomeOf.last, 'done 42');
    const bad = createActor(
      invoking(
        make(async () => {
          throw new Error('refused');
        }),
      ),
    ).start();
    await waitFor(bad, (s) => s.matches('failed'));
    t.is(outcomeOf.last, 'error refused');
  });
}

test('lazySignalPromise: the same snapshots as fromPromise for a resolve and a reject', async (t) => {
  const snapshots = async (make: typeof lazySignalPromise, fail: boolean): Promise<unknown[]> => {
    const actor = createActor(
      make<number, number>(async ({ input }) => {
        if (fail) throw new Error('no');
        return input + 1;
      }),
      { input: 1 },
    );
    const seen: unknown[] = [actor.getSnapshot()];
    actor.subscribe({ next: (s) => seen.push(s), error: () => seen.push(actor.getSnapshot()) });
    actor.start();
    await new Promise((r) => setImmediate(r));
    return seen.map((s) => JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v instanceof Error ? `Error: ${v.message}` : v))));
  };
  const resolved = await snapshots(lazySignalPromise, false);
  t.like(resolved.at(-1), { status: 'done', output: 2 });
  for (const fail of [false, true]) {
    t.deepEqual(await snapshots(lazySignalPromise, fail), await snapshots(fromPromise as typeof lazySignalPromise, fail), fail ? 'reject' : 'resolve');
  }
});

test('lazySignalPromise: a run that reads its signal sees it aborted when the machine leaves the state', async (t) => {
  let signal: AbortSignal | undefined;
  const actor = createActor(
    invoking(
      lazySignalPromise(async ({ signal: s }) => {
        signal = s;
        return new Promise<number>(() => {});
      }),
    ),
  ).start();
  await new Promise((r) => setImmediate(r));
  t.false(signal?.aborted ?? true);
  actor.send({ type: 'QUIT' });
  t.true(actor.getSnapshot().matches('quit'));
  t.true(signal?.aborted);
});
