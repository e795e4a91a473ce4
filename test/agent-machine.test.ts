/**
 * The agent machine's decisions about what etcd refuses, pure (no etcd):
 * any refused source makes the agent `refused`, and it is `running` again
 * only once every refused source was accepted since and the watch is up.
 */
import test from 'ava';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { type AgentEvent, agentMachine } from '../machines/agent';
import { stateName } from '../machines/state-name';

function agent(): { send: (e: AgentEvent) => void; state: () => string; reason: () => string | undefined; snapshot: () => unknown } {
  const actor = createActor(agentMachine.provide({ actors: { session: fromCallback(() => undefined), shutdown: fromPromise<void>(async () => {}) } }), {
    input: { host: 'spp4' },
  });
  actor.start();
  return {
    send: (e) => actor.send(e),
    state: () => stateName(actor.getSnapshot().value),
    reason: () => actor.getSnapshot().context.reason,
    snapshot: () => actor.getSnapshot(),
  };
}

const running = (): ReturnType<typeof agent> => {
  const a = agent();
  a.send({ type: 'ETCD_UP' });
  a.send({ type: 'CONFIGURATION', state: 'valid' });
  return a;
};

test('a refused watch: refused until the watch is up again', (t) => {
  const a = running();
  t.is(a.state(), 'running');
  a.send({ type: 'ETCD_REFUSED', source: 'watch', reason: 'etcd refused read of /spp/openstack/action/spp4/' });
  t.is(a.state(), 'refused');
  t.regex(a.reason() ?? '', /action/);
  a.send({ type: 'ETCD_UP' });
  t.is(a.state(), 'running');
  t.is(a.reason(), undefined);
});

test('a refused liveness key: the watch coming up again does not hide it; its acceptance does', (t) => {
  const a = running();
  a.send({ type: 'ETCD_REFUSED', source: 'liveness', reason: 'etcd refused the liveness key /spp/openstack/agent/spp4' });
  t.is(a.state(), 'refused');
  a.send({ type: 'ETCD_DOWN', reason: 'etcd watch disconnected' });
  a.send({ type: 'ETCD_UP' });
  t.is(a.state(), 'refused', 'still refused: the liveness key is not written');
  t.regex(a.reason() ?? '', /liveness key/);
  a.send({ type: 'ETCD_ACCEPTED', source: 'liveness' });
  t.is(a.state(), 'running');
});

test('two refused sources: accepting one leaves the agent refused, naming the other', (t) => {
  const a = running();
  a.send({ type: 'ETCD_REFUSED', source: 'liveness', reason: 'liveness refused' });
  a.send({ type: 'ETCD_REFUSED', source: 'write', reason: 'port_status write refused' });
  a.send({ type: 'ETCD_ACCEPTED', source: 'write' });
  t.is(a.state(), 'refused');
  t.is(a.reason(), 'liveness refused');
  a.send({ type: 'ETCD_ACCEPTED', source: 'liveness' });
  t.is(a.state(), 'running');
});

test('accepted while nothing is refused: no change; refused before any configuration: back to waiting for it', (t) => {
  const a = running();
  const before = a.snapshot();
  a.send({ type: 'ETCD_ACCEPTED', source: 'write' });
  t.is(a.snapshot(), before, 'the same snapshot: nothing happened');

  const b = agent();
  b.send({ type: 'ETCD_REFUSED', source: 'lock', reason: 'etcd refused the agent lock' });
  t.is(b.state(), 'refused');
  b.send({ type: 'ETCD_UP' });
  t.is(b.state(), 'waitingForConfiguration');
});
