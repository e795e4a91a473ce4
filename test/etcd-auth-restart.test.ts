/**
 * Issue 26: after an etcd restart with auth on, etcd3's default fault
 * handling wedges its client for good (src/etcd/fault-handling.ts says why).
 * Against a real etcd with auth: our client recovers, a client with etcd3's
 * defaults stays wedged (the cause, shown), and the watchdog notices such a
 * client while etcd answers a new one: /livez fails and the agent stops
 * itself with the reason (the CLI then exits 1). An agent started while
 * etcd is down (its lock campaign, logins and lease grants all failing)
 * comes up once etcd returns.
 */
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { startAgent } from '../src/daemon/daemon';
import { EtcdWatchdog } from '../src/daemon/etcd-watchdog';
import { connectEtcd } from '../src/etcd/connect';
import { EtcdHealth } from '../src/etcd/health';
import { LocalEtcd } from '../src/localetcd/etcd-server';
import { createLogger } from '../src/log';
import { keys } from '../src/protocol/keys';
import { httpTransport, SppCtlClient } from '../src/sppctl/client';
import { AGENT_USER, withHostUsers } from './helpers/auth-system';
import { enableAuth, ROOT_PASSWORD } from './helpers/etcd-auth';
import { startLoggedAgent } from './helpers/logged-agent';
import { startSystem, until } from './helpers/system';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const quiet = createLogger({ level: 'error', format: 'json' });

/** etcd3 as it comes (its circuit breaker per host), with the agent's call deadline. */
function etcd3Defaults(etcd: LocalEtcd): Etcd3 {
  return new Etcd3({
    hosts: etcd.endpoints.map((e) => `http://${e}`),
    auth: { username: 'root', password: ROOT_PASSWORD },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + 2000 }),
  });
}

/** A put every 250 ms (the load), counting the ones that succeed after `since()`. */
function putLoop(client: Etcd3, key: string): { okSince(t: number): number; stop(): void } {
  const oks: number[] = [];
  const timer = setInterval(() => {
    client
      .put(key)
      .value(String(Date.now()))
      .then(() => oks.push(Date.now()))
      .catch(() => undefined);
  }, 250);
  return { okSince: (t) => oks.filter((x) => x >= t).length, stop: () => clearInterval(timer) };
}

test('after an outage with auth on, our client recovers; etcd3 defaults wedge; the watchdog tells them apart', async (t) => {
  const etcd = await LocalEtcd.start();
  t.teardown(() => etcd.stop());
  (await enableAuth(etcd)).close();
  const health = new EtcdHealth(etcd.endpoints);
  const ours = connectEtcd({ endpoints: etcd.endpoints, username: 'root', password: ROOT_PASSWORD, callTimeoutMs: 2000 }, health);
  const theirs = etcd3Defaults(etcd);
  t.teardown(() => {
    ours.close();
    theirs.close();
  });
  await ours.put('ours').value('0');
  await theirs.put('theirs').value('0');
  const a = putLoop(ours, 'ours');
  const b = putLoop(theirs, 'theirs');
  t.teardown(() => {
    a.stop();
    b.stop();
  });
  await sleep(500);
  // long enough for 3 failed calls (the breaker opens) and its 5 s before a half-open test
  await etcd.stopMember('m0');
  await sleep(8000);
  t.is(health.cause?.kind, 'refused', 'the cause names the refused connection');
  t.regex(String(health.cause?.endpoint), new RegExp(etcd.endpoint.replace(/\./g, '\\.')));
  await etcd.startMember('m0');
  const back = Date.now();
  await until(() => a.okSince(back) > 0, 'a put by our client after etcd returned', 10_000);
  t.is(health.cause, undefined, 'the cause is cleared once calls succeed');

  // the same probe as the agent's watchdog, on each client
  const watch = (client: Etcd3): { fired: () => string | undefined; dog: EtcdWatchdog } => {
    let reason: string | undefined;
    const dog = new EtcdWatchdog({
      boundMs: 6000,
      probe: () => client.get('probe').exec(),
      probeFresh: async () => {
        const fresh = connectEtcd({ endpoints: etcd.endpoints, username: 'root', password: ROOT_PASSWORD, callTimeoutMs: 2000 });
        try {
          return await fresh.get('probe').exec();
        } finally {
          fresh.close();
        }
      },
      log: quiet,
      onStuck: (r) => {
        reason = r;
      },
      probeTimeoutMs: 3000,
    });
    dog.start();
    t.teardown(() => dog.stop());
    return { fired: () => reason, dog };
  };
  const onOurs = watch(ours);
  const onTheirs = watch(theirs);
  const reason = await until(onTheirs.fired, 'the watchdog on the wedged client', 25_000);
  t.regex(reason, /no answer for \d+ s while etcd answers a new client/);
  // the cause: not one call of etcd3's defaults got through since etcd came back (should an etcd3
  // upgrade make this fail, upstream may have fixed it: see whether src/etcd/fault-handling.ts is still needed)
  t.is(b.okSince(back), 0, 'etcd3 with its default fault handling stays wedged');
  t.true(a.okSince(back) > 10, 'our client kept working');
  t.is(onOurs.fired(), undefined, 'the watchdog leaves a working client alone');
});

test('an agent whose etcd client is wedged fails /livez and stops itself with the reason', async (t) => {
  const s = await startSystem(t, { agent: false });
  (await enableAuth(s.etcd)).close();
  const wedgeable = etcd3Defaults(s.etcd);
  t.teardown(() => wedgeable.close());
  let fatal: string | undefined;
  const settings = s.settings({ etcdUser: 'root', etcdPassword: ROOT_PASSWORD, etcdWatchdog: '6', ops: '127.0.0.1:0', leaseTtl: '3' });
  const agent = startAgent(settings, {
    logger: quiet,
    sppctl: new SppCtlClient(httpTransport(s.sim.url, { timeoutMs: 2000 })),
    client: wedgeable,
    onFatal: (r) => {
      fatal = r;
    },
  });
  t.teardown(() => agent.stop());
  const url = (await agent.ops)!.url;
  await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'ready', 15_000);
  t.is((await fetch(`${url}/livez`)).status, 200);
  await s.etcd.stopMember('m0');
  await sleep(8000);
  await s.etcd.startMember('m0');
  // /livez fails from the moment the watchdog fires until the stopping agent closes the ops endpoint (over a second: the wedged client's revokes time out)
  const livez = await until(
    async () => {
      const res = await fetch(`${url}/livez`);
      return res.status === 503 ? res.text() : undefined;
    },
    '/livez failing',
    40_000,
  );
  t.regex(agent.stuck() ?? '', /etcd client has had no answer/);
  t.regex(livez, /^stuck: .*no answer for \d+ s/);
  await until(() => fatal, 'the agent stopping itself', 10_000);
  t.is(fatal, agent.stuck());
});

test('an agent started while etcd (auth on) is down campaigns for the lock until etcd returns, then takes it, writes its liveness key and is ready', async (t) => {
  const s = await startSystem(t, { agent: false });
  const users = await withHostUsers(t, s);
  await s.etcd.stopMember('m0');
  const a = await startLoggedAgent(t, {
    host: s.host,
    etcdEndpoints: s.etcd.endpoint,
    etcdUser: AGENT_USER,
    etcdPasswordFile: users.agentEnv.SPP_ETCD_PASSWORD_FILE!,
    sppCtl: s.sim.url,
  });
  // long enough for many failed lock attempts, logins and lease grants
  await sleep(8000);
  // gRPC reports a closed port as refused or, between its reconnect attempts, as unreachable: one cause either way
  t.regex((await a.readyz()).body, /taking the host lock agent-lock\/spp4: etcd 127\.0\.0\.1:\d+: (connection refused|unreachable)/);
  await s.etcd.startMember('m0');
  await until(async () => (await a.readyz()).status === 200, 'ready after etcd returned', 20_000);
  t.truthy(await s.client.get(keys.agent(s.host)).string(), 'the liveness key written');
  t.true(a.logs.some((l) => l.message === 'etcd answers again'));
});
