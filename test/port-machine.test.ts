/**
 * The port machine on its own: actors and actions injected, as the daemon
 * and the replay tool inject theirs. No etcd, no spp-ctl: these are the
 * machine's decisions.
 */
import test from 'ava';
import { createActor, fromPromise, waitFor } from 'xstate';
import { PermanentError } from '../machines/errors';
import { type PlugInput, portMachine, type ReportInput, type RunOutput, type UnplugInput } from '../machines/port';
import { stateName } from '../machines/state-name';
import type { PortIntent } from '../src/plan/desired';

const plug: PortIntent = { kind: 'plug', place: { vhostId: 0, secId: 1, vhostKey: '/spp/openstack/vhost/h/phys1/0' }, rule: { mac: 'fa:16:3e:00:00:01' } };
const unplug: PortIntent = { kind: 'unplug', place: { vhostId: 0, secId: 1 }, rule: { mac: 'fa:16:3e:00:00:01' } };
const invalid: PortIntent = { kind: 'invalid', reason: 'bind_port/h/p: field mac_address: bad', cause: 'input' };

function harness(opts: { plugFails?: Array<Error | undefined> } = {}) {
  const calls: string[] = [];
  const fails = [...(opts.plugFails ?? [])];
  const machine = portMachine.provide({
    actors: {
      plug: fromPromise<RunOutput, PlugInput>(async ({ input }) => {
        calls.push(`plug ${input.intent.rule.mac}${input.intent.rule.vlan === undefined ? '' : ` vlan ${input.intent.rule.vlan}`}`);
        const err = fails.shift();
        if (err) throw err;
        return { commands: ['x'], observed: { rule: input.intent.rule } };
      }),
      unplug: fromPromise<RunOutput, UnplugInput>(async () => {
        calls.push('unplug');
        return { commands: [] };
      }),
      reportError: fromPromise<void, ReportInput>(async ({ input }) => {
        calls.push(`report ${input.reason}`);
      }),
    },
    actions: { reassertUp: () => calls.push('reassert') },
  });
  return { machine, calls };
}

const timers = { reassertMs: [10, 20], backoffBaseMs: 10, backoffMaxMs: 40 };

test('plug runs once, then re-asserts up on its schedule, then settles', async (t) => {
  const { machine, calls } = harness();
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: plug, revision: 5, timers } }).start();
  await waitFor(actor, (s) => stateName(s.value) === 'plugged.steady');
  t.deepEqual(calls, ['plug fa:16:3e:00:00:01', 'reassert', 'reassert']);
  t.deepEqual(actor.getSnapshot().context.observed, { rule: { mac: 'fa:16:3e:00:00:01' } });
  actor.send({ type: 'DESIRED', intent: plug, revision: 6 });
  t.is(stateName(actor.getSnapshot().value), 'plugged.steady', 'the same intent again does nothing');
  t.is(actor.getSnapshot().context.revision, 6);
});

test('a transient failure backs off and retries; a permanent one reports once and waits for new input', async (t) => {
  const { machine, calls } = harness({ plugFails: [new Error('spp-ctl unreachable'), new PermanentError('rejected twice')] });
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: plug, revision: 1, timers } }).start();
  await waitFor(actor, (s) => stateName(s.value) === 'failed.reported');
  t.deepEqual(calls, ['plug fa:16:3e:00:00:01', 'plug fa:16:3e:00:00:01', 'report rejected twice']);
  t.is(actor.getSnapshot().context.lastError, 'rejected twice');
  actor.send({ type: 'DESIRED', intent: plug, revision: 2 });
  t.is(stateName(actor.getSnapshot().value), 'failed.reported', 'same input: still failed, no retry loop');
  actor.send({ type: 'DESIRED', intent: { ...plug, rule: { mac: 'fa:16:3e:00:00:02' } }, revision: 3 });
  await waitFor(actor, (s) => stateName(s.value).startsWith('plugged'));
  t.is(calls.at(-1), 'plug fa:16:3e:00:00:02');
});

test('invalid input is reported without touching spp-ctl', async (t) => {
  const { machine, calls } = harness();
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: invalid, revision: 1, timers } }).start();
  await waitFor(actor, (s) => stateName(s.value) === 'failed.reported');
  t.deepEqual(calls, ['report bind_port/h/p: field mac_address: bad']);
  actor.send({ type: 'RESYNC' });
  t.is(stateName(actor.getSnapshot().value), 'failed.reported', 'a resync cannot fix bad input');
});

test('desired changes during a run are applied after it (level-triggered), and unplug ends in removed', async (t) => {
  const { machine, calls } = harness();
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: plug, revision: 1, timers } }).start();
  t.is(stateName(actor.getSnapshot().value), 'plugging');
  actor.send({ type: 'DESIRED', intent: unplug, revision: 2 });
  await waitFor(actor, (s) => stateName(s.value) === 'removed');
  t.deepEqual(calls, ['plug fa:16:3e:00:00:01', 'unplug']);
  actor.send({ type: 'DESIRED', intent: plug, revision: 3 });
  await waitFor(actor, (s) => stateName(s.value).startsWith('plugged'));
  t.is(calls.length, 3, 're-plug after unplug');
});

test('a port whose NIC is not ready waits for it: no run until NIC_STATE ready, a new intent keeps waiting', async (t) => {
  const { machine, calls } = harness();
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: plug, revision: 1, timers, nicReady: false } }).start();
  t.is(stateName(actor.getSnapshot().value), 'waitingForNic');
  actor.send({ type: 'DESIRED', intent: { ...plug, rule: { mac: 'fa:16:3e:00:00:02' } }, revision: 2, nicReady: false });
  actor.send({ type: 'RESYNC' });
  actor.send({ type: 'NIC_STATE', ready: false });
  t.is(stateName(actor.getSnapshot().value), 'waitingForNic');
  t.deepEqual(calls, [], 'nothing sent to a NIC that is not built');
  actor.send({ type: 'NIC_STATE', ready: true });
  await waitFor(actor, (s) => stateName(s.value) === 'plugged.steady');
  t.deepEqual(calls, ['plug fa:16:3e:00:00:02', 'reassert', 'reassert'], 'one run, with the latest intent');
  // the NIC going away later is kept, and acted on at the next evaluation
  actor.send({ type: 'NIC_STATE', ready: false });
  t.is(stateName(actor.getSnapshot().value), 'plugged.steady');
  actor.send({ type: 'DESIRED', intent: unplug, revision: 3 });
  t.is(stateName(actor.getSnapshot().value), 'waitingForNic', 'an unplug waits for the NIC too');
  actor.send({ type: 'DESIRED', intent: { kind: 'idle', note: 'no action' }, revision: 4, nicReady: true });
  t.is(stateName(actor.getSnapshot().value), 'idle');
});

test('an intent that returns while the port backs off from another one is the one plugged (the last DESIRED wins)', async (t) => {
  // A plugged; C (same vhost, vlan 100) fails with a transient error; A comes back during the backoff.
  // The controller sends nothing more (its last intent is A), so the machine must end plugging A, not C.
  const withVlan: PortIntent = { ...plug, rule: { mac: 'fa:16:3e:00:00:01', vlan: 100 } };
  const { machine, calls } = harness({ plugFails: [undefined, new Error('spp-ctl unreachable')] });
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: plug, revision: 1, timers } }).start();
  await waitFor(actor, (s) => stateName(s.value) === 'plugged.steady');
  actor.send({ type: 'DESIRED', intent: withVlan, revision: 2 });
  await waitFor(actor, (s) => stateName(s.value) === 'backoff');
  actor.send({ type: 'DESIRED', intent: plug, revision: 3 });
  await waitFor(actor, (s) => stateName(s.value) === 'plugged.steady');
  t.deepEqual(actor.getSnapshot().context.intent, plug);
  t.deepEqual(
    calls.filter((c) => c.startsWith('plug')),
    ['plug fa:16:3e:00:00:01', 'plug fa:16:3e:00:00:01 vlan 100', 'plug fa:16:3e:00:00:01'],
    'the retry plugs A; C is never plugged again',
  );
});

test('bad input that returns while the port backs off from a valid intent is reported again', async (t) => {
  const { machine, calls } = harness({ plugFails: [new Error('spp-ctl unreachable')] });
  const actor = createActor(machine, { input: { host: 'h', portId: 'p', intent: invalid, revision: 1, timers } }).start();
  await waitFor(actor, (s) => stateName(s.value) === 'failed.reported');
  actor.send({ type: 'DESIRED', intent: plug, revision: 2 });
  await waitFor(actor, (s) => stateName(s.value) === 'backoff');
  actor.send({ type: 'DESIRED', intent: invalid, revision: 3 });
  await waitFor(actor, (s) => stateName(s.value) === 'failed.reported');
  t.deepEqual(actor.getSnapshot().context.intent, invalid);
  t.deepEqual(calls, ['report bind_port/h/p: field mac_address: bad', 'plug fa:16:3e:00:00:01', 'report bind_port/h/p: field mac_address: bad']);
});
