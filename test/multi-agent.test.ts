/**
 * The scale runner (scripts/bench/multi-agent.ts): the agents of several
 * hosts in one child process on one etcd client, against a real etcd and
 * one spp-ctl emulator per host; and the shared list-watch it uses.
 */

import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { BenchEnv } from '../scripts/bench/harness';
import { measureScale } from '../scripts/bench/measure';
import { parseHostArg } from '../scripts/bench/multi-agent';
import { startAgent } from '../src/daemon/daemon';
import { resolveSettings } from '../src/daemon/settings';
import { connectEtcd } from '../src/etcd/connect';
import type { ListWatchEvent } from '../src/etcd/listwatch';
import { SharedListWatch } from '../src/etcd/shared-listwatch';
import { silentLogger } from '../src/log';
import { hostWatchRanges, keys, ROOT } from '../src/protocol/keys';
import { parseMappings } from '../src/protocol/mappings';
import { buildHost } from '../src/setup/build';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { type EmulatorServer, startEmulatorServer } from '../src/sppctl/emulator';
import type { VfStatus } from '../src/sppctl/wire';
import { type EtcdContext, useEtcd } from './helpers/etcd';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { spawnNode } from './helpers/spawn';
import { SEED_MAPPINGS } from './helpers/system';
import { until } from './helpers/wait';

const test = anyTest as TestFn<EtcdContext>;
useEtcd(test);

const RUNNER = join(__dirname, '..', 'scripts', 'bench', 'multi-agent.js');
const CONFIGURATION = parseMappings(SEED_MAPPINGS).configuration!;

interface Runner {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line starting with `prefix`. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  exit(): Promise<number | null>;
}

function spawnRunner(t: ExecutionContext, args: string[]): Runner {
  const runner = spawnNode(t, args, { script: RUNNER });
  const { child } = runner;
  return {
    child,
    output: () => `stdout:\n${runner.stdout()}\nstdout and stderr:\n${runner.text()}`,
    line: (prefix, timeoutMs = 20_000) =>
      until(
        () => {
          const found = runner
            .stdout()
            .split('\n')
            .find((l) => l.startsWith(prefix));
          if (!found && child.exitCode !== null) throw new Error(`no ${prefix} line (exit ${child.exitCode}); ${runner.text()}`);
          return found;
        },
        () => `a ${prefix} line; ${runner.text()}`,
        timeoutMs,
      ),
    exit: () => runner.exited,
  };
}

async function startHosts(t: ExecutionContext<EtcdContext>, names: string[]): Promise<EmulatorServer[]> {
  return Promise.all(
    names.map(async (host) => {
      const sim = await startEmulatorServer({ listen: { host: '127.0.0.1', port: 0 }, mappings: CONFIGURATION });
      t.teardown(() => sim.close());
      await buildHost(t.context.client, host, CONFIGURATION);
      return sim;
    }),
  );
}

async function classifierTable(sim: EmulatorServer, secId: number): Promise<VfStatus['classifier_table']> {
  return ((await (await fetch(`${sim.url}/v1/vfs/${secId}`)).json()) as VfStatus).classifier_table;
}

for (const watch of ['shared', 'own'] as const) {
  test(`--watch ${watch}: three hosts in one process come up; a malformed bind_port on one fails only that port; SIGTERM stops cleanly`, async (t) => {
    const { client } = t.context;
    const hosts = ['a', 'b', 'c'].map((x) => `multi-${watch}-${x}`);
    const sims = await startHosts(t, hosts);
    const runner = spawnRunner(t, [
      '--etcd-endpoints',
      t.context.etcd.endpoints.join(','),
      '--watch',
      watch,
      '--lease-ttl',
      '5',
      ...hosts.flatMap((h, i) => ['--host', `${h}=${sims[i]!.url}`]),
    ]);
    const ready = JSON.parse((await runner.line('READY ')).slice('READY '.length)) as { hosts: number; nics: number };
    t.like(ready, { hosts: 3, nics: 6 });
    for (const h of hosts) t.truthy(await client.get(keys.agent(h)).string(), `liveness key of ${h}`);

    // host b gets a bind_port that is not JSON, plugged together with a good port on every host
    const bad = 'bad00000-0000-4000-8000-000000000001';
    const port = (i: number, n: number): { portId: string; vhostId: number; phys: string; mac: string } => ({
      portId: `0000000${i}-0000-4000-8000-00000000000${n}`,
      vhostId: n,
      phys: n < 2 ? 'phys1' : 'phys2',
      mac: `fa:16:3e:00:0${i}:0${n}`,
    });
    await client.put(keys.bindPort(hosts[1]!, bad)).value('{"vhost_id": 1, "mac_address": ');
    await Promise.all([client.put(keys.action(hosts[1]!, bad)).value('plug'), ...hosts.map((h, i) => pyBind(client, h, port(i, 0)))]);
    await Promise.all(hosts.map((h, i) => waitUp(client, h, port(i, 0).portId)));
    const status = await waitForValue(client, keys.portStatus(hosts[1]!, bad), (v) => v !== undefined);
    t.regex(status!, new RegExp(`^error: .*bind_port/${hosts[1]}/${bad}: not valid JSON`));

    // host b still plugs after the failure, and every emulator holds its own host's ports only
    await pyBind(client, hosts[1]!, port(1, 2));
    await waitUp(client, hosts[1]!, port(1, 2).portId);
    t.deepEqual(await classifierTable(sims[0]!, 1), [{ type: 'mac', value: 'FA:16:3E:00:00:00', port: 'ring:0' }]);
    t.deepEqual(await classifierTable(sims[1]!, 1), [{ type: 'mac', value: 'FA:16:3E:00:01:00', port: 'ring:0' }]);
    t.deepEqual(await classifierTable(sims[1]!, 2), [{ type: 'mac', value: 'FA:16:3E:00:01:02', port: 'ring:4' }]);
    t.deepEqual(await classifierTable(sims[2]!, 2), []);
    t.is(await client.get(keys.portStatus(hosts[0]!, port(1, 2).portId)).string(), null, 'host a did not answer a port of host b');

    runner.child.kill('SIGTERM');
    t.is(await runner.exit(), 0, runner.output());
    t.regex(runner.output(), /^STOPPED \{"hosts":3\}$/m);
    for (const h of hosts) {
      t.is(await client.get(keys.agent(h)).string(), null, `liveness key of ${h} revoked at stop`);
      t.is(await client.get(keys.agentLock(h)).string(), null, `lock of ${h} released at stop`);
      t.is(await client.get(keys.portStatus(h, port(hosts.indexOf(h), 0).portId)).string(), 'up', 'a stop leaves the plugged ports alone');
    }
  });
}

test('in process: stopping one agent of a shared client leaves the client open and the other agent working', async (t) => {
  const { client, etcd } = t.context;
  const hosts = ['shared-client-a', 'shared-client-b'];
  const sims = await startHosts(t, hosts);
  const shared = connectEtcd({ endpoints: etcd.endpoints });
  t.teardown(() => shared.close());
  const agents = hosts.map((host, i) =>
    startAgent(resolveSettings({ host, etcdEndpoints: etcd.endpoints.join(','), sppCtl: sims[i]!.url, leaseTtl: '5' }), {
      logger: silentLogger(),
      sppctl: new SppCtlClient(httpTransport(sims[i]!.url, { timeoutMs: 5000 })),
      client: shared,
    }),
  );
  t.teardown(() => Promise.all(agents.map((a) => a.stop())));
  const a = { portId: 'c0000000-0000-4000-8000-00000000000a', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:0a:00' };
  await pyBind(client, hosts[0]!, a);
  await waitUp(client, hosts[0]!, a.portId);
  await agents[0]!.stop();
  t.is(await client.get(keys.agent(hosts[0]!)).string(), null, 'the stopped agent revoked its liveness key');
  const b = { portId: 'c0000000-0000-4000-8000-00000000000b', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:0b:01' };
  await pyBind(client, hosts[1]!, b);
  await waitUp(client, hosts[1]!, b.portId);
  t.not(await shared.get(keys.agent(hosts[1]!)).string(), null, 'the shared client still answers');
});

test('usage errors exit 2 naming the problem; --help exits 0', async (t) => {
  t.deepEqual(parseHostArg('n1=http://127.0.0.1:7777'), { host: 'n1', sppCtl: 'http://127.0.0.1:7777' });
  const none = spawnRunner(t, ['--etcd-endpoints', '127.0.0.1:1']);
  t.is(await none.exit(), 2);
  t.regex(none.output(), /no host to serve/);
  const bad = spawnRunner(t, ['--host', 'nourl']);
  t.is(await bad.exit(), 2);
  t.regex(bad.output(), /--host: expected NAME=SPP_CTL_URL, got "nourl"/);
  const help = spawnRunner(t, ['--help']);
  t.is(await help.exit(), 0);
  t.regex(help.output(), /usage: node dist\/scripts\/bench\/multi-agent\.js/);
});

test('shared list-watch: a late subscriber gets a reset of its own keys from the cache, then only events of its keys', async (t) => {
  const { client } = t.context;
  const shared = new SharedListWatch(client, { prefixes: [ROOT], keys: [] });
  await client.put(keys.configuration('sw-x')).value('[]');
  await client.put(keys.configuration('sw-y')).value('[]');
  const xEvents: ListWatchEvent[] = [];
  const x = shared.watch(hostWatchRanges('sw-x')).subscribe((ev) => xEvents.push(ev));
  t.teardown(() => x.unsubscribe());
  await waitForEvent(() => xEvents.some((e) => e.type === 'reset'));
  t.deepEqual(
    (xEvents.find((e) => e.type === 'reset') as Extract<ListWatchEvent, { type: 'reset' }>).entries.map(([k]) => k),
    [keys.configuration('sw-x')],
  );
  await client.put(keys.action('sw-y', 'p1')).value('plug');
  await client.put(keys.action('sw-x', 'p2')).value('plug');
  await waitForEvent(() => xEvents.some((e) => e.type === 'put' && e.key === keys.action('sw-x', 'p2')));

  const yFirst = firstValueFrom(shared.watch(hostWatchRanges('sw-y')).pipe(take(2), toArray()));
  const [reset, connection] = await yFirst;
  t.is(reset!.type, 'reset');
  t.deepEqual(
    (reset as Extract<ListWatchEvent, { type: 'reset' }>).entries.map(([k]) => k).sort(),
    [keys.action('sw-y', 'p1'), keys.configuration('sw-y')],
    'the cache holds the event seen before y subscribed',
  );
  t.like(connection, { type: 'connection', connected: true });
  t.false(
    xEvents.some((e) => e.type !== 'reset' && e.type !== 'connection' && e.key.includes('sw-y')),
    'x never saw a key of y',
  );
  t.throws(() => shared.watch({ prefixes: ['/elsewhere/'], keys: [] }), { message: /\/elsewhere\/ is outside its ranges/ });
  const yDelete = firstValueFrom(shared.watch(hostWatchRanges('sw-y')).pipe(filter((e) => e.type === 'delete')));
  await client.delete().key(keys.action('sw-y', 'p1'));
  t.like(await yDelete, { type: 'delete', key: keys.action('sw-y', 'p1') });
});

test('the bench scenario: every port of every host up through one runner, memory read after a GC, clean exit', async (t) => {
  // an etcd of its own: the bench watches the whole protocol root
  const env = await BenchEnv.start();
  t.teardown(() => env.close());
  const r = await measureScale(env, { hosts: 2, nics: 2, vhosts: 1, watch: 'shared', settleMs: 0, memoryIntervalMs: 20 });
  t.like(r, { hosts: 2, ports: 4, requests: 4, exitCode: 0, warnings: [] });
  for (const v of [r.idleRssKb, r.pluggedRssKb, r.idleHeapKb, r.pluggedHeapKb, r.readyMs, r.allUpMs]) t.true(Number.isFinite(v) && v > 0, String(v));
  t.true(r.idleHeapKb < r.idleRssKb, 'the V8 heap is a part of the RSS');
  for (const v of [r.agentCpuMs, r.etcdCpuMs, r.benchCpuMs, r.settleCpuMs]) t.true(Number.isFinite(v) && v >= 0, String(v));
});

async function waitForEvent(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  await until(check, 'a list-watch event', timeoutMs, 10);
}
