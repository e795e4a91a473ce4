/**
 * The fan-out figure's library with tiny counts: two hosts with an agent and
 * an etcd client each; a bind on one reaches only its agent. No timing
 * thresholds: the figures are the bench's business.
 */
import test from 'ava';
import { measureFanout } from '../scripts/bench/fanout';
import { BenchEnv } from '../scripts/bench/harness';

test('fan-out: events etcd sent per bind, etcd CPU per bind, the start-up list of one host', async (t) => {
  const env = await BenchEnv.start();
  t.teardown(() => env.close());
  const one = await measureFanout(env, { hosts: 1, binds: 2 });
  const two = await measureFanout(env, { hosts: 2, binds: 2 });
  t.true(one.eventsPerBind >= 4, `a bind's claim, bind_port, action and status reach its agent (${one.eventsPerBind})`);
  t.is(two.eventsPerBind, one.eventsPerBind, "the second host's agent receives nothing of the first host's binds");
  for (const v of [one.etcdCpuPerBindMs, two.etcdCpuPerBindMs]) t.true(Number.isFinite(v) && v >= 0, String(v));
  t.is(two.startupListKeys, 5, 'the configuration and the 4 vhosts of the host, nothing of the other');
  t.true(two.cloudKeys > two.startupListKeys);
});
