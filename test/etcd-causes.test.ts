/**
 * Issue 26 §2: the agent names the cause of etcd trouble (the endpoint and
 * the underlying error) once when it appears or changes, not at every retry;
 * /readyz and the page say the same; a grant revoked or given back at
 * runtime is noticed within seconds, without waiting for an etcd event or a
 * refusal backoff. Real etcd with auth; the agent logged in as the host's user.
 */
import test from 'ava';
import { Range } from 'etcd3';
import { freePort } from '../src/localetcd/ports';
import { prefixes } from '../src/protocol/keys';
import { agentRoleName } from '../src/setup/roles';
import { AGENT_USER, withHostUsers } from './helpers/auth-system';
import { runCli } from './helpers/cli';
import { startLoggedAgent } from './helpers/logged-agent';
import { startSystem, until } from './helpers/system';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('etcd refusing connections: one warning naming the endpoint and ECONNREFUSED, one reminder after 10 s, not one per retry; /readyz and the page say the same', async (t) => {
  const port = await freePort();
  const a = await startLoggedAgent(t, { host: 'c1', etcdEndpoints: `127.0.0.1:${port}` });
  await sleep(11_500);
  const trouble = a.logs.filter((l) => l.message === 'etcd trouble');
  t.is(trouble.length, 1, JSON.stringify(trouble));
  t.is(trouble[0]?.kind, 'refused');
  t.is(trouble[0]?.endpoint, `127.0.0.1:${port}`);
  t.regex(String(trouble[0]?.cause), new RegExp(`^etcd 127\\.0\\.0\\.1:${port}: connection refused: .*ECONNREFUSED`));
  const reminders = a.logs.filter((l) => l.message === 'etcd trouble continues');
  t.is(reminders.length, 1, 'reminded once, 10 s after');
  t.is(reminders[0]?.cause, trouble[0]?.cause);
  // 11 s of retries (the lock every 250 ms: over 40) and a handful of lines at info or above
  const loud = a.logs.filter((l) => l.level !== 'debug');
  t.true(loud.length <= 8, loud.map((l) => l.message).join('\n'));
  t.true(a.logs.filter((l) => l.message === 'cannot take the agent lock yet; retrying').length > 20, 'the retries are there, at debug');
  t.false(a.logs.some((l) => /circuit breaker/.test(JSON.stringify(l))));
  const ready = await a.readyz();
  t.is(ready.status, 503);
  t.is(ready.body.trim(), `not ready: taking the host lock agent-lock/c1: ${trouble[0]?.cause}`);
  t.is(((await a.page()).readiness as { reason?: string } | undefined)?.reason, `taking the host lock agent-lock/c1: ${trouble[0]?.cause}`);
});

test('a wrong etcd password: the cause says authentication failed, once', async (t) => {
  const s = await startSystem(t, { agent: false });
  await withHostUsers(t, s);
  const a = await startLoggedAgent(t, { host: s.host, etcdEndpoints: s.etcd.endpoint, etcdUser: AGENT_USER, etcdPassword: 'not-the-password' });
  await until(() => a.logs.some((l) => l.message === 'etcd trouble'), 'the cause logged', 10_000);
  await sleep(3000);
  const trouble = a.logs.filter((l) => l.message === 'etcd trouble');
  t.is(trouble.length, 1);
  t.is(trouble[0]?.kind, 'auth');
  t.regex(String(trouble[0]?.cause), /authentication failed/);
  t.false(JSON.stringify(a.logs).includes('not-the-password'), 'the password is never logged');
  t.regex((await a.readyz()).body, /etcd refused|authentication failed/);
});

test('a read grant revoked at runtime is noticed within seconds and its return too: refused, then ready again', async (t) => {
  t.timeout(120_000);
  const s = await startSystem(t, { agent: false });
  const users = await withHostUsers(t, s);
  const a = await startLoggedAgent(t, {
    host: s.host,
    etcdEndpoints: s.etcd.endpoint,
    etcdUser: AGENT_USER,
    etcdPasswordFile: users.agentEnv.SPP_ETCD_PASSWORD_FILE!,
    sppCtl: s.sim.url,
  });
  await until(async () => (await a.readyz()).status === 200, 'ready', 15_000);
  const role = s.client.role(agentRoleName(s.host));
  const action = { permission: 'Readwrite' as const, range: Range.prefix(prefixes.actionOfHost(s.host)) };
  const liveness = { permission: 'Readwrite' as const, key: `/spp/openstack/agent/${s.host}` };

  // no etcd event follows the revoke: only the probe can notice it
  let from = Date.now();
  await role.revoke(action);
  await until(
    async () => {
      const r = await a.readyz();
      return r.status === 503 && /etcd refused/.test(r.body) ? r.body : undefined;
    },
    'refused after the revoke',
    10_000,
  );
  t.log(`read revoked: refused after ${Date.now() - from} ms`);
  // the range's grant was readwrite: both its read (the list-watch) and its writes (the port keys) are refused
  await until(() => a.agent.agent.getSnapshot().context.refused.watch, 'the read refusal too', 5000);
  const { refused: why } = a.agent.agent.getSnapshot().context;
  t.regex(String(why.watch), new RegExp(`read of ${prefixes.actionOfHost(s.host).replace(/\//g, '\\/')}`));
  t.regex(String(why.write), /writes of its port keys/);
  t.is(a.agent.agent.getSnapshot().value, 'refused');
  const [page, now] = [await a.page(), await a.readyz()];
  t.is(`not ready: ${(page.readiness as { reason?: string } | undefined)?.reason}`, now.body.trim(), 'the page says what /readyz says');
  // `spp status` reads the liveness key's value: refused, and why (not `alive`)
  const status = async (): Promise<string> => (await runCli(['status', '--host', s.host], users.adminEnv)).out;
  const shown = await until(
    async () => {
      const out = await status();
      return /agent refused: /.test(out) ? out : undefined;
    },
    'spp status showing refused',
    5000,
  );
  t.regex(shown, new RegExp(`host ${s.host}: agent refused: etcd refused etcd user "${AGENT_USER}"`));
  // long enough for the list-watch's refusal backoff to reach 8-16 s
  await sleep(15_000);
  from = Date.now();
  await role.grant(action);
  await until(async () => (await a.readyz()).status === 200, 'ready after the grant', 6000);
  t.log(`read granted again: ready after ${Date.now() - from} ms`);
  await until(async () => new RegExp(`host ${s.host}: agent alive \\(pid`).test(await status()), 'spp status showing alive again', 5000);

  // the liveness key's write grant
  from = Date.now();
  await role.revoke(liveness);
  const noLiveness = await until(
    async () => {
      const r = await a.readyz();
      return r.status === 503 ? r.body : undefined;
    },
    'refused after the liveness revoke',
    10_000,
  );
  t.log(`liveness write revoked: refused after ${Date.now() - from} ms`);
  t.regex(noLiveness, /the liveness key/);
  from = Date.now();
  await role.grant(liveness);
  await until(async () => (await a.readyz()).status === 200, 'ready after the liveness grant', 6000);
  t.log(`liveness write granted again: ready after ${Date.now() - from} ms`);
});
