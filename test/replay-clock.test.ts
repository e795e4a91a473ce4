/**
 * The machines' timers run on an injected clock: with xstate's SimulatedClock
 * (the replay's), a NIC whose spp_vf is missing waits in retryWait for as
 * long as the clock does not move, however much wall time passes, and
 * retries exactly when the clock is moved past its backoff.
 */
import test from 'ava';
import { SimulatedClock } from 'xstate';
import { Controller } from '../src/agent/controller';
import { silentLogger } from '../src/log';
import { keys } from '../src/protocol/keys';
import { parseMappings } from '../src/protocol/mappings';
import { KeySpace, KeySpaceWriter } from '../src/replay/keyspace';
import { inProcessTransport, SppCtlClient } from '../src/sppctl/client';
import { createEmulator } from '../src/sppctl/emulator';
import { until } from './helpers/system';
import { sleep } from './helpers/wait';

test('a NIC retry fires on the injected clock, never on the wall clock', async (t) => {
  const configuration = parseMappings('00:04.0#phys1#2#0xfe', { beyondRealLimits: true }).configuration!;
  const emulator = createEmulator({ mappings: configuration, lenient: true });
  emulator.appearAfter(1, undefined); // vf 1 is not there
  t.teardown(() => emulator.close());
  const clock = new SimulatedClock();
  const states: string[] = [];
  const controller = new Controller({
    host: 'spp4',
    sppctl: new SppCtlClient(inProcessTransport(emulator)),
    etcd: new KeySpaceWriter(new KeySpace()),
    logger: silentLogger(),
    nicBackoff: { baseMs: 50, maxMs: 50 },
    clock,
    onNicState: (_, state) => states.push(state),
  });
  t.teardown(() => controller.stop(100));
  controller.handle({
    type: 'reset',
    revision: 2,
    entries: [[keys.configuration('spp4'), { value: JSON.stringify(configuration), modRevision: 2 }]],
    reason: 'test',
  });
  await until(() => states.includes('retryWait'), 'the first failure');
  const attempts = (): number => emulator.log().filter((e) => e.path.startsWith('/v1/vfs/1') || e.path === '/v1/processes').length;
  const first = attempts();
  t.true(first > 0);
  // ten times the backoff of wall time: nothing happens
  await sleep(500);
  t.is(attempts(), first, 'no retry on the wall clock');
  t.is(states[states.length - 1], 'retryWait');
  // the clock moves past the backoff: the retry runs at once
  clock.increment(50);
  await until(() => attempts() > first, 'the retry after the clock moved');
  t.true(attempts() > first);
});
