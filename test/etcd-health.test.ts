/** The pure parts of issue 26's etcd handling: what a grant probe's result makes the agent do, and when a cause is news. */
import test from 'ava';
import { EtcdAuthenticationFailedError, GRPCDeadlineExceededError, GRPCUnavailableError } from 'etcd3';
import { grantActions } from '../src/daemon/grant-probe';
import { causeText, classify, type EtcdCause, EtcdHealth, etcdAnswered } from '../src/etcd/health';

test('grant probe: a new refusal is reported once, a held lock is left alone, a grant back ends the refusal', (t) => {
  t.deepEqual(grantActions({ watch: 'no read' }, {}, true), [{ type: 'refuse', source: 'watch', reason: 'no read' }]);
  t.deepEqual(grantActions({ watch: 'no read' }, { watch: 'no read' }, true), [], 'already reported with that reason');
  t.deepEqual(grantActions({ lock: 'no lock' }, {}, true), [], 'a held lock is lost by its lease, not by a grant');
  t.deepEqual(grantActions({ lock: 'no lock' }, {}, false), [{ type: 'refuse', source: 'lock', reason: 'no lock' }]);
  t.deepEqual(grantActions({}, { liveness: 'x', write: 'y' }, true), [
    { type: 'restore', source: 'liveness' },
    { type: 'restore', source: 'write' },
  ]);
  t.deepEqual(grantActions({ write: 'y' }, { liveness: 'x', write: 'y' }, true), [{ type: 'restore', source: 'liveness' }], 'one grant back of two');
});

test('causes: classified with the endpoint; gRPC alternating refused and unreachable is one cause; a success ends it', (t) => {
  const refused = new GRPCUnavailableError(
    '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379. Resolution note: ',
  );
  const vague = new GRPCUnavailableError('14 UNAVAILABLE: No connection established. Last error: null');
  const c = classify(refused, '127.0.0.1:2379');
  t.deepEqual(c, {
    kind: 'refused',
    endpoint: '127.0.0.1:2379',
    message: '14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379.',
  });
  t.is(
    causeText(c),
    'etcd 127.0.0.1:2379: connection refused: 14 UNAVAILABLE: No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:2379.',
  );
  t.is(classify(new Error('14 UNAVAILABLE: ... unable to verify the first certificate'), 'e:1').kind, 'tls');
  t.is(classify(new EtcdAuthenticationFailedError('etcdserver: authentication failed, invalid user ID or password'), 'e:1').kind, 'auth');
  t.is(classify(new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'), 'e:1').kind, 'timeout');
  t.is(classify(refused, '127.0.0.1:2379,127.0.0.1:2381').endpoint, '127.0.0.1:2379', 'the member dialled, out of several');
  t.false(etcdAnswered(refused));
  t.true(etcdAnswered(new EtcdAuthenticationFailedError('x')), 'a refusal is an answer');

  const health = new EtcdHealth(['127.0.0.1:2379']);
  const seen: Array<EtcdCause | undefined> = [];
  health.onChange((x) => seen.push(x));
  health.failed(refused);
  health.failed(vague);
  health.failed(refused);
  t.deepEqual(
    seen.map((x) => x?.kind),
    ['refused'],
  );
  t.is(health.cause?.kind, 'refused');
  health.succeeded();
  health.failed(vague);
  health.failed(refused);
  t.deepEqual(
    seen.map((x) => x?.kind),
    ['refused', undefined, 'unreachable', 'refused'],
    'the precise cause after a vague one is news',
  );
});
