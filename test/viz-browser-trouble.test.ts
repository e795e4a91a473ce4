/**
 * The visualizer in real headless Chromium where things go wrong: the header
 * says the agent's readiness and its reason (spp-ctl down is not "running"),
 * a port retrying on HTTP 500s is `retrying` with its attempts, last error
 * and an age from its first attempt, an invalid VLAN is not drawn as flat,
 * the state words are the legend's, a clicked port's heading is not under
 * the sticky header, each port has its own address, and a replay's header
 * names the slider's revision.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Page } from 'playwright-core';
import { keys } from '../src/protocol/keys';
import { parseInput, replay } from '../src/replay';
import { startVizServer } from '../src/viz/server';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { FIXTURES } from './helpers/fixtures';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { nicsReady, startSystem, until } from './helpers/system';

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

const LEGEND = ['free', 'plugging', 'up', 'retrying', 'failed', 'unplugging'];
const UP = 'c1000000-0000-4000-8000-000000000001';
const RETRYING = 'c1000000-0000-4000-8000-000000000002';
const BAD_VLAN = 'c1000000-0000-4000-8000-000000000003';

/** Where a port's heading is against the sticky header, in the viewport. */
function headingPlace(page: Page, portId: string): Promise<{ top: number; bottom: number; headerBottom: number; viewport: number }> {
  return page.evaluate((id) => {
    const h = document.querySelector(`[data-panel-port="${id}"] h3`)!.getBoundingClientRect();
    return { top: h.top, bottom: h.bottom, headerBottom: document.querySelector('header')!.getBoundingClientRect().bottom, viewport: window.innerHeight };
  }, portId);
}

test('live: readiness and its reason in the header, a retrying port with its attempts, an invalid VLAN, legend words, port addresses', async (t) => {
  // resync every second: spp-ctl going away is seen at once
  const s = await startSystem(t, { settings: { ui: '127.0.0.1:0', reassert: 'off', resyncInterval: '1' } });
  const viz = await s.agent!.viz;
  if (!viz) throw new Error('the agent did not start the visualizer');
  await nicsReady(s);
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // a short window: the ports list and the panel are below the fold
  await page.setViewportSize({ width: 1300, height: 650 });
  await page.goto(viz.url);
  await page.waitForSelector('#readiness[data-ready="true"]');
  t.is(await page.locator('#readiness').innerText(), 'ready');

  // one port up; the words of the list and the drawing are the legend's
  await pyBind(s.client, s.host, { portId: UP, vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:c1:01' });
  await waitUp(s.client, s.host, UP);
  const upRow = page.locator(`#ports-table tr[data-port-id="${UP}"]`);
  await page.waitForSelector(`#ports-table tr[data-port-id="${UP}"][data-phase="up"]`);
  t.is(await upRow.locator('.chip').innerText(), 'up');
  t.regex((await upRow.locator('.chip').getAttribute('title')) ?? '', /port machine state: plugged\.steady/, 'the machine state in the tooltip');
  t.is(await page.locator('g.vhost[data-vhost="0"] text').nth(1).textContent(), 'up');

  // a port whose classifier entry spp-ctl refuses with HTTP 500, again and again
  s.sim.emulator.addFault({ count: 1000, action: 'error', path: 'classifier_table' });
  const asked = Date.now();
  await pyBind(s.client, s.host, { portId: RETRYING, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:c1:02' });
  await until(() => (s.agent!.controller.view().ports.find((p) => p.portId === RETRYING)?.attempts ?? 0) >= 3, 'three failed attempts', 20_000);
  const retryRow = page.locator(`#ports-table tr[data-port-id="${RETRYING}"]`);
  await page.waitForSelector(`#ports-table tr[data-port-id="${RETRYING}"][data-phase="retrying"]`);
  t.is(await retryRow.locator('.chip').innerText(), 'retrying');
  t.regex(await retryRow.locator('td.trouble').innerText(), /^\d+ failed attempts: .*500/);
  t.is(await page.locator('#summary .chip[data-phase="retrying"]').innerText(), '1 retrying', 'counted as retrying');
  t.is(await page.locator('#summary .chip[data-phase="plugging"]').count(), 0, 'not counted as plugging');
  t.is(await page.locator('g.vhost[data-vhost="1"]').getAttribute('data-phase'), 'retrying');
  // the age runs from the first attempt: at least the time since the bind, whatever retry it is on
  const age = Number(await retryRow.locator('td.age').getAttribute('data-age'));
  t.true(age >= Date.now() - asked - 2000, `age ${age} ms counts from the first attempt (${Date.now() - asked} ms ago)`);

  // clicked: the heading is in view below the sticky header, and the port has its own address
  await retryRow.locator('td').nth(2).click();
  const panel = page.locator(`[data-panel-port="${RETRYING}"]`);
  await panel.waitFor();
  t.regex(await panel.locator('.attempts').innerText(), /attempts: \d+ failed in a row; the agent tries again after a backoff/);
  t.regex(await panel.locator('.last-error').innerText(), /500/);
  t.regex(await panel.locator('.why').innerText(), /retrying after \d+ failed attempts; last error: .*500/);
  t.regex(await panel.innerText(), /trying since its first attempt, for/);
  const place = await headingPlace(page, RETRYING);
  t.true(
    place.top >= place.headerBottom && place.bottom <= place.viewport,
    `the heading (${place.top}-${place.bottom}) is below the header (${place.headerBottom})`,
  );
  t.is(new URL(page.url()).hash, `#port=${RETRYING}`);
  s.sim.emulator.clearFaults();

  // an invalid VLAN: failed, and not drawn as a flat network
  await pyBind(s.client, s.host, { portId: BAD_VLAN, vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:c1:03', vlan: 5000 });
  await waitForValue(s.client, keys.portStatus(s.host, BAD_VLAN), (v) => v?.startsWith('error') === true);
  await page.waitForSelector(`g.vhost[data-vhost="2"][data-phase="failed"]`);
  const badVhost = (await page.locator('g.vhost[data-vhost="2"]').textContent()) ?? '';
  t.notRegex(badVhost, /flat/);
  t.regex(badVhost, /invalid request/);
  t.is(await page.locator(`#ports-table tr[data-port-id="${BAD_VLAN}"] td`).nth(4).innerText(), 'invalid');

  // every chip of the list and every vhost's state line says a legend word
  for (const text of await page.locator('#ports-table .chip').allInnerTexts()) t.true(LEGEND.includes(text), `list chip "${text}"`);
  const vhostStates = await page.locator('g.vhost').evaluateAll((gs) => gs.map((g) => g.querySelectorAll('text')[1]?.textContent ?? ''));
  for (const text of vhostStates) t.true(LEGEND.includes(text), `drawing says "${text}"`);
  t.deepEqual(await page.locator('h2 .legend .chip').allInnerTexts(), [...LEGEND, 'desired ≠ observed']);

  // a port's address opens the page on that port, its heading in view
  const linked = await browser.newPage();
  t.teardown(() => linked.close());
  await linked.setViewportSize({ width: 1300, height: 650 });
  await linked.goto(`${viz.url}#port=${BAD_VLAN}`);
  await linked.locator(`[data-panel-port="${BAD_VLAN}"]`).waitFor();
  t.is(await linked.locator(`#ports-table tr.selected`).getAttribute('data-port-id'), BAD_VLAN);
  await until(async () => {
    const p = await headingPlace(linked, BAD_VLAN);
    return p.top >= p.headerBottom && p.bottom <= p.viewport;
  }, 'the linked port scrolled into view below the header');
  await screenshot(page, 'viz-trouble-retrying');

  // spp-ctl goes away: the header turns to "not ready" with /readyz's reason, not a green "running"
  const back = s.restartSim(12_000);
  await page.waitForSelector('#readiness[data-ready="false"]', { timeout: 10_000 });
  const reason = await page.locator('#readiness-reason').innerText();
  t.regex(reason, /spp_vf \d/);
  const agentReady = s.agent!.readiness();
  t.false(agentReady.ready);
  t.regex(reason, /^spp_vf \d is \w+/, `the page says what /readyz says: ${JSON.stringify(agentReady)}`);
  for (const green of await page.locator('#summary .state.ok').allInnerTexts()) t.false(/running|ready/.test(green), `"${green}" is green in the header`);
  t.is(await page.locator('#agent-state .state').getAttribute('data-state'), 'running', 'the agent machine itself still runs (a detail)');
  await screenshot(page, 'viz-trouble-sppctl-down');
  await back;
  const backAt = Date.now();
  await page.waitForSelector('#readiness[data-ready="true"]', { timeout: 60_000 });
  t.log(`ready again ${Date.now() - backAt} ms after spp-ctl came back`);
  t.deepEqual(errors, [], 'no script errors on the page');
});

test("replay: the header's revision is the slider's, on every frame, also where the agent wrote during the step", async (t) => {
  const input = parseInput(readFileSync(join(FIXTURES, 'seed-one-plugged.etcdctl.txt'), 'utf8'), 'seed-one-plugged.etcdctl.txt');
  const report = await replay([input], { host: 'spp4', frames: true, jobs: 1 });
  const frames = report.hosts[0]!.frames!;
  t.true(
    frames.some((f) => f.view.revision !== f.revision),
    'a frame whose view is past its step (the agent wrote port_status)',
  );
  const server = await startVizServer({ listen: { port: 0 }, source: { kind: 'frames', frames } });
  t.teardown(() => server.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(server.url);
  await page.waitForSelector('#frame-label');
  for (let i = 0; i < frames.length; i++) {
    await page.locator('#frame').fill(String(i));
    await page.waitForFunction((n) => document.getElementById('frame-label')?.textContent?.startsWith(`frame ${n + 1}/`), i);
    const label = await page.locator('#frame-label').innerText();
    const header = await page.locator('#revision').innerText();
    t.is(header, String(frames[i]!.revision));
    t.regex(label, new RegExp(`· revision ${header} ·`), `frame ${i + 1}: the slider and the header agree`);
    if (frames[i]!.view.revision !== frames[i]!.revision)
      t.regex(await page.locator('#summary').innerText(), new RegExp(`\\(${frames[i]!.view.revision} after the agent's writes\\)`));
  }
});
