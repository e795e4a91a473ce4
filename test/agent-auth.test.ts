/**
 * The agent under least privilege: etcd with auth on, the agent logged in
 * as a user holding only the role `spp etcd roles --host H --apply` made,
 * the driver (`spp port bind|unbind`) as a user with the driver role.
 */

import test from 'ava';
import type { Etcd3 } from 'etcd3';
import { keys } from '../src/protocol/keys';
import { AGENT_PASSWORD, AGENT_USER, cliBind, withHostUsers } from './helpers/auth-system';
import { runCli } from './helpers/cli';
import { clientAs } from './helpers/etcd-auth';
import { type PyPort, pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { classified, entryOf, startSystem, until } from './helpers/system';
import { TcpProxy } from './helpers/tcp-proxy';

const P: PyPort[] = [
  { portId: 'a0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0a:00' },
  { portId: 'a0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0a:01', vlan: 301 },
  { portId: 'a0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:0a:02' },
  { portId: 'a0000000-0000-0000-0000-000000000003', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:0a:03', vlan: 303 },
];

test('the agent with only its host role plugs and unplugs flat and VLAN ports, restarts after SIGKILL, survives a compaction relist', async (t) => {
  const s = await startSystem(t, { agent: false });
  const { agentEnv, driverEnv } = await withHostUsers(t, s);
  const root = s.client;
  const bind = async (p: PyPort): Promise<void> => {
    const r = await cliBind(driverEnv, s.host, p, 15);
    t.is(r.code, 0, `${r.err}\nagent output:\n${s.childOutput.slice(-3000)}`);
  };
  const unbind = async (p: PyPort): Promise<void> => {
    const r = await runCli(['port', 'unbind', '--host', s.host, '--port-id', p.portId, '--wait', '--timeout', '15'], driverEnv);
    t.is(r.code, 0, r.err);
  };
  const alive = (): Promise<true> => until(() => root.get(keys.agent(s.host)).exists(), `${keys.agent(s.host)} written by the agent`, 15_000);

  // The agent as a child process, for SIGKILL.
  s.spawnAgent([], agentEnv);
  await alive();
  await bind(P[0]!);
  await bind(P[1]!);
  t.deepEqual(await classified(s), [entryOf(P[0]!), entryOf(P[1]!)].sort());
  await unbind(P[0]!);
  t.deepEqual(await classified(s), [entryOf(P[1]!)]);
  t.is(await root.get(keys.vhost(s.host, 'phys1', 0)).string(), 'None');

  await s.killChild('SIGKILL');
  s.spawnAgent([], agentEnv);
  await alive();
  await bind(P[2]!);
  await unbind(P[1]!);
  t.deepEqual(await classified(s), [entryOf(P[2]!)]);
  await s.killChild('SIGTERM');

  // A child agent through a relay that the test cuts while etcd compacts past the agent's revision.
  const proxy = await TcpProxy.start(s.etcd.endpoint);
  t.teardown(() => proxy.close());
  // childOutput holds the earlier children's lines too: only this child's count
  const from = s.childOutput.length;
  const childLogs = (): Array<Record<string, unknown>> => s.childLogs(from);
  s.spawnAgent(['--etcd-endpoints', proxy.endpoint, '--reassert-up', 'off'], agentEnv);
  await waitUp(root, s.host, P[2]!.portId, 15_000);
  // no read of the host's keys may be pending at the cut (it would be retried after it and spare the relist)
  // the port's run has ended (its up is already in etcd from the previous agent, so it puts none: docs/protocol.md)
  await until(() => childLogs().some((l) => l.message === 'port is up' && l.port === P[2]!.portId), "the agent's run of the bound port ended", 15_000);
  proxy.cut();
  await until(() => childLogs().some((l) => l.message === 'etcd connection lost'), 'the agent sees the connection go', 15_000);
  await pyBind(root, s.host, P[3]!);
  await pyUnbind(root, s.host, P[2]!.portId);
  await root.put(keys.configuration('other')).value('[]');
  const revision = (await root.get(keys.configuration('other')).exec()).header.revision;
  await root.kv.compact({ revision, physical: true });
  proxy.restore();
  await waitUp(root, s.host, P[3]!.portId, 20_000);
  await waitGone(root, s.host, P[2]!.portId, 20_000);
  // Converged across the compaction, by a relist that the compaction caused.
  const relist = childLogs().find((l) => l.message === 'listed host keys' && String(l.reason).startsWith('relist after'));
  t.truthy(relist, 'a relist happened');
  t.regex(String(relist?.reason), /compacted/);
  t.deepEqual(await classified(s), [entryOf(P[3]!)]);
  // The agent's own user could do all of it: nothing was written with more rights than its role.
  const agent: Etcd3 = clientAs(s.etcd, AGENT_USER, AGENT_PASSWORD);
  t.teardown(() => agent.close());
  t.is(await agent.get(keys.portStatus(s.host, P[3]!.portId)).string(), 'up');
});
