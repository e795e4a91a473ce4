/**
 * etcd going away under the agent: a whole outage with binds and unbinds on
 * both sides of it, a 3-member cluster losing members (with and without
 * quorum), and a compaction past the agent's last revision while it is cut
 * off, which forces a relist.
 */
import test from 'ava';
import { connectEtcd } from '../src/etcd/connect';
import { keys } from '../src/protocol/keys';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { classified, entryOf, nicsReady, startSystem, until } from './helpers/system';
import { TcpProxy } from './helpers/tcp-proxy';
import { sleep } from './helpers/wait';

const P: PyPort[] = [
  { portId: 'e0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0e:00' },
  { portId: 'e0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0e:01', vlan: 301 },
  { portId: 'e0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0e:02' },
  { portId: 'e0000000-0000-0000-0000-000000000003', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:0e:03', vlan: 303 },
];

test('etcd down for 3 s while binds and unbinds happen: every port ends in its desired state', async (t) => {
  const s = await startSystem(t);
  await nicsReady(s);
  await pyBind(s.client, s.host, P[0]!);
  await pyBind(s.client, s.host, P[1]!);
  await waitUp(s.client, s.host, P[0]!.portId);
  await waitUp(s.client, s.host, P[1]!.portId);

  // written just before the stop: the agent may be half-way through them when etcd goes
  await pyBind(s.client, s.host, P[2]!);
  await pyUnbind(s.client, s.host, P[0]!.portId);
  await s.etcd.stopMember('m0');
  await sleep(3000);
  await s.etcd.startMember('m0');
  // written by the driver after it came back
  await pyBind(s.client, s.host, P[3]!);
  await pyUnbind(s.client, s.host, P[1]!.portId);

  await waitUp(s.client, s.host, P[2]!.portId, 20_000);
  await waitUp(s.client, s.host, P[3]!.portId, 20_000);
  await waitGone(s.client, s.host, P[0]!.portId, 20_000);
  await waitGone(s.client, s.host, P[1]!.portId, 20_000);
  t.deepEqual(await classified(s), [entryOf(P[2]!), entryOf(P[3]!)].sort());
  t.is(await s.client.get(keys.vhost(s.host, 'phys1', 0)).string(), 'None');
  t.is(await s.client.get(keys.vhost(s.host, 'phys1', 1)).string(), 'None');
  t.truthy(
    s.logs.find((l) => l.message === 'etcd connection lost'),
    'the agent noticed the outage',
  );
});

test('3-member cluster: the agent survives losing the member it talks to, waits without quorum, recovers when members return', async (t) => {
  const s = await startSystem(t, { etcdMembers: 3, agent: false });
  // one relay per member, so the test can see which member the agent's connections go to
  const proxies = await Promise.all(s.etcd.endpoints.map((e) => TcpProxy.start(e)));
  t.teardown(() => Promise.all(proxies.map((p) => p.close())));
  s.startAgent({ etcdEndpoints: proxies.map((p) => p.endpoint).join(',') });
  await nicsReady(s);
  const clientOf = (i: number) => {
    const c = connectEtcd({ endpoints: [s.etcd.endpoints[i]!], callTimeoutMs: 3000 });
    t.teardown(() => c.close());
    return c;
  };
  await pyBind(s.client, s.host, P[0]!);
  await waitUp(s.client, s.host, P[0]!.portId);

  const used = (): number[] => proxies.flatMap((p, i) => (p.connections > 0 && s.etcd.members[i] ? [i] : []));
  const first = used()[0];
  t.not(first, undefined, 'the agent has a connection to some member');
  await s.etcd.stopMember(s.etcd.members[first!]!.name);
  const survivors = [0, 1, 2].filter((i) => i !== first);
  const viaSurvivor = clientOf(survivors[0]!);
  await pyBind(viaSurvivor, s.host, P[2]!);
  await waitUp(viaSurvivor, s.host, P[2]!.portId, 20_000);

  // 1 of 3: no quorum, writes cannot succeed anywhere
  const second = survivors[0]!;
  const last = survivors[1]!;
  await s.etcd.stopMember(s.etcd.members[second]!.name);
  const viaLast = clientOf(last);
  await t.throwsAsync(viaLast.put(keys.action(s.host, P[0]!.portId)).value('unplug'), undefined, 'no write without quorum');
  await sleep(1000);

  await s.etcd.startMember(s.etcd.members[second]!.name);
  await until(
    async () =>
      (await viaLast
        .put('/probe')
        .value('x')
        .then(() => true)
        .catch(() => false)) || undefined,
    'quorum back',
    20_000,
  );
  await pyUnbind(viaLast, s.host, P[0]!.portId);
  await pyBind(viaLast, s.host, P[3]!);
  await waitGone(viaLast, s.host, P[0]!.portId, 20_000);
  await waitUp(viaLast, s.host, P[3]!.portId, 20_000);
  await s.etcd.startMember(s.etcd.members[first!]!.name);
  await pyUnbind(viaLast, s.host, P[2]!.portId);
  await waitGone(viaLast, s.host, P[2]!.portId, 20_000);
  t.deepEqual(await classified(s), [entryOf(P[3]!)]);
});

test('compaction past the revision of a cut-off agent: its watch is cancelled, it relists and converges', async (t) => {
  const s = await startSystem(t, { agent: false });
  const proxy = await TcpProxy.start(s.etcd.endpoint);
  t.teardown(() => proxy.close());
  // No read of the host's keys may be pending at the cut: retried after it, it
  // would cover the compacted revisions and spare the relist this test is
  // about. So no re-put of `up`, and the agent has read its own `up` back.
  s.startAgent({ etcdEndpoints: proxy.endpoint, reassert: 'off' });
  await nicsReady(s);
  await pyBind(s.client, s.host, P[0]!);
  await waitUp(s.client, s.host, P[0]!.portId);
  const statusKey = keys.portStatus(s.host, P[0]!.portId);
  await until(() => s.logs.some((l) => l.message === 'etcd event' && l.key === statusKey), 'the agent read its own up back');

  proxy.cut();
  await until(() => s.logs.some((l) => l.message === 'etcd connection lost'), 'the agent sees the connection go', 15_000);
  await pyBind(s.client, s.host, P[1]!);
  await pyUnbind(s.client, s.host, P[0]!.portId);
  await s.client.put('/unrelated').value('moves the revision on');
  const revision = (await s.client.get('/unrelated').exec()).header.revision;
  await s.client.kv.compact({ revision, physical: true });
  proxy.restore();

  await waitUp(s.client, s.host, P[1]!.portId, 20_000);
  await waitGone(s.client, s.host, P[0]!.portId, 20_000);
  const relist = s.logs.find((l) => l.message === 'listed host keys' && String(l.reason).startsWith('relist after'));
  t.truthy(relist, 'a relist happened');
  t.regex(String(relist?.reason), /compacted/);
  t.deepEqual(await classified(s), [entryOf(P[1]!)]);
});
