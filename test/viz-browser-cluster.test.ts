/**
 * The cluster view in real headless Chromium: `spp viz --etcd-endpoints`
 * (the real command, as a child process) over one real etcd holding 16
 * hosts and 64 ports: one host with a running agent serving --ui, the rest
 * as neutron and their agents left them, some with a liveness key, some
 * without.
 */
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { hostName, seedCluster, seededPhase } from './helpers/cluster';
import { pyBind, waitUp } from './helpers/neutron';
import { spawnNode } from './helpers/spawn';
import { nicsReady, startSystem } from './helpers/system';

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

test('cluster view: 16 hosts and 64 ports from etcd, live, with and without an agent; drilling into a host', async (t) => {
  const s = await startSystem(t, { settings: { ui: '127.0.0.1:0', reassert: 'off' } });
  const agentUi = (await s.agent!.viz)!.url;
  await nicsReady(s);
  const own = Array.from({ length: 4 }, (_, k) => `a0000000-0000-4000-8000-00000000000${k}`);
  await Promise.all(own.map((portId, k) => pyBind(s.client, s.host, { portId, vhostId: k, phys: k < 2 ? 'phys1' : 'phys2', mac: `fa:16:3e:aa:00:0${k}` })));
  await Promise.all(own.map((p) => waitUp(s.client, s.host, p)));
  // 15 more hosts, 4 ports each: 64 ports on 16 hosts; even-numbered hosts have a liveness key
  await seedCluster(s.client, { hosts: 15, portsPerHost: 4, alive: (i) => i % 2 === 0 });

  const viz = spawnNode(t, ['viz', '--etcd-endpoints', s.etcd.endpoints.join(','), '--agent-ui', `${s.host}=${agentUi}`, '--listen', '127.0.0.1:0'], {
    stopWith: 'SIGTERM',
  });
  const [, url] = await viz.waitFor(/visualizer (http:\/\/127\.0\.0\.1:\d+\/)/, 'the URL', 10_000);
  t.regex(viz.text(), /cluster view of etcd .*read-only/);

  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const started = Date.now();
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#hosts-table tr[data-host]').length === 16);
  t.log(`cluster page: 16 hosts, 64 ports listed ${Date.now() - started} ms after navigation`);
  t.regex(await page.locator('#summary').innerText(), /16 hosts \(9 with a live agent\) · 64 ports/);

  // with and without a live agent
  const row = (h: string) => page.locator(`#hosts-table tr[data-host="${h}"]`);
  t.is(await row(s.host).getAttribute('data-alive'), 'true', 'the running agent keeps its liveness key');
  t.is(await row(s.host).locator('.ui-flag').count(), 1);
  t.is(await row(hostName(0)).getAttribute('data-alive'), 'true');
  t.is(await row(hostName(1)).getAttribute('data-alive'), 'false');
  t.regex(await row(hostName(1)).innerText(), /no agent/);
  t.is(await page.locator('#hosts-table tr[data-alive="false"]').count(), 7);
  // ports by state, from action and port_status
  const chips = await row(hostName(3))
    .locator('.chip')
    .evaluateAll((els) => els.map((e) => e.textContent));
  const expected = new Map<string, number>();
  for (let k = 0; k < 4; k++) expected.set(seededPhase(3, k), (expected.get(seededPhase(3, k)) ?? 0) + 1);
  t.deepEqual(chips.sort(), [...expected].map(([p, n]) => `${n} ${p}`).sort());
  t.regex(await row(s.host).innerText(), /4 up/);
  await page.locator('#host-search').fill('compute-1');
  t.is(await page.locator('#hosts-table tr[data-host]').count(), 5);
  await page.locator('#host-search').fill('');

  // live through the watch: a new host appears, an agent going away shows
  await seedCluster(s.client, { hosts: 1, portsPerHost: 2, alive: () => true, firstIndex: 42 });
  await page.waitForSelector(`#hosts-table tr[data-host="${hostName(42)}"][data-alive="true"]`);
  await s.client.delete().key(keys.agent(hostName(0)));
  await page.waitForSelector(`#hosts-table tr[data-host="${hostName(0)}"][data-alive="false"]`);

  // a host without an agent page: its etcd-side facts only
  await row(hostName(1)).click();
  const facts = page.locator(`.host-facts[data-host="${hostName(1)}"]`);
  await facts.waitFor();
  t.is(await facts.locator('tr[data-etcd-port]').count(), 4);
  t.regex(await facts.innerText(), /error: spp-ctl refused/);
  t.regex(await facts.innerText(), /no agent page known/);
  t.false(await page.locator('#agent-view').isVisible());

  // the host with an agent serving --ui: its etcd facts and its agent's live view
  const clicked = Date.now();
  await row(s.host).click();
  await page.locator(`.host-facts[data-host="${s.host}"]`).waitFor();
  await page.waitForSelector('#agent-view .card.vf[data-sec-id="2"]');
  t.log(`drill-in to ${s.host} with its agent's view: ${Date.now() - clicked} ms`);
  t.is(await page.locator('#agent-view .card.vf').count(), 2);
  t.is(await page.locator('#agent-view g.vhost[data-phase="up"]').count(), 4);
  await page.locator('#agent-view g.vhost[data-vhost="3"]').click();
  await page.locator(`[data-panel-port="${own[3]}"]`).waitFor();
  // the drilled-in agent's readiness, as its /readyz says, and the host and port in the address
  t.regex(await page.locator(`.host-facts[data-host="${s.host}"] .agent-readiness`).innerText(), /agent readiness: ready/);
  t.deepEqual(Object.fromEntries(new URLSearchParams(new URL(page.url()).hash.slice(1))), { host: s.host, port: own[3] });
  const linked = await browser.newPage();
  t.teardown(() => linked.close());
  await linked.goto(`${url}#host=${s.host}&port=${own[3]}`);
  await linked.locator(`[data-panel-port="${own[3]}"]`).waitFor();
  await screenshot(page, 'viz-cluster');
  t.deepEqual(errors, [], 'no script errors on the page');
  // read-only like the agent's page
  t.is((await fetch(new URL('api/view', url), { method: 'POST' })).status, 405);
});
