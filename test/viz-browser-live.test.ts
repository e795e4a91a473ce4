/**
 * The visualizer in real headless Chromium over a running agent (real etcd,
 * emulator over HTTP): the page follows the agent without being reloaded.
 */
import test, { type ExecutionContext } from 'ava';
import type { Page } from 'playwright-core';
import { keys } from '../src/protocol/keys';
import type { VizServer } from '../src/viz/server';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { nicsReady, type System, startSystem } from './helpers/system';

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

/** Script errors on the page, to assert at the end of a test. */
type Opened = { s: System; page: Page; viz: VizServer; errors: string[] };

async function openLive(t: ExecutionContext): Promise<Opened> {
  // no re-puts of `up` after a plug, so the revision settles and the page can be compared with the agent
  const s = await startSystem(t, { settings: { ui: '127.0.0.1:0', reassert: 'off' } });
  const viz = await s.agent!.viz;
  if (!viz) throw new Error('the agent did not start the visualizer');
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(viz.url);
  await nicsReady(s);
  await page.waitForSelector('.card.vf[data-sec-id="2"] .state[data-state="ready"]');
  return { s, page, viz, errors };
}

const portState = (page: Page, portId: string): Promise<string | null> => page.locator(`#ports-table tr[data-port-id="${portId}"]`).getAttribute('data-state');

test('live: a port plugged through etcd turns plugged on the open page, without a reload', async (t) => {
  const { s, page, viz, errors } = await openLive(t);
  t.true(
    s.logs.some((l) => l.message === 'visualizer listening (read-only)' && l.url === viz.url),
    'the agent logs the URL',
  );
  t.is(await page.locator('[data-port-id]').count(), 0);
  await page.evaluate(() => {
    (window as unknown as { notReloaded: boolean }).notReloaded = true;
  });

  const port = 'd0000000-0000-0000-0000-00000000000d';
  await pyBind(s.client, s.host, { portId: port, vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:00:0d', vlan: 200 });
  await waitUp(s.client, s.host, port);
  await page.waitForSelector(`#ports-table tr[data-port-id="${port}"][data-state^="plugged"]`);
  t.regex((await portState(page, port)) ?? '', /^plugged/);
  t.true(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded === true), 'same document: updated live');

  await page.locator(`#ports-table tr[data-port-id="${port}"]`).click();
  const card = page.locator(`[data-panel-port="${port}"]`);
  t.regex(await card.locator('.desired').innerText(), /plug vhost 2 on spp_vf 2: mac fa:16:3e:00:00:0d, vlan 200/);
  // desired and observed agree once plugged; the VLAN settings are the spec's
  t.is(await card.locator('table.compare tr.differs').count(), 0);
  t.regex(await card.locator('table.compare').innerText(), /add id 200 pcp 0/);
  t.is(await card.locator('svg.machine .box.current').getAttribute('data-state'), 'plugged');
  t.is(await card.locator('svg.machine rect.child.current').count(), 1, 'only the current child state is highlighted');
  t.false(await page.locator('#replay').isVisible(), 'no replay slider on a live agent');
  t.is(await page.locator('#agent-state .state').getAttribute('data-state'), 'running');
  t.is(await page.locator('svg.machine[data-machine="agent"] .box.current').getAttribute('data-state'), 'running');
  t.regex(await card.locator('table.timeline').innerText(), /classifier_table add vlan 200 fa:16:3e:00:00:0d/i);
  // the drawing of spp_vf 2: the entry on ring:4 as spp_vf reports it, the tag operations, vhost 2 up
  const vf = page.locator('.card.vf[data-sec-id="2"]');
  t.regex((await vf.locator('g[data-node="ring:4"]').textContent()) ?? '', /vlan 200\/FA:16:3E:00:00:0D/);
  t.regex((await vf.locator('g[data-node="ring:4"]').textContent()) ?? '', /tx vlan del/);
  t.regex((await vf.locator('g[data-node="forward_2_rx"]').textContent()) ?? '', /rx vlan add 200/);
  t.is(await vf.locator('g.vhost[data-vhost="2"]').getAttribute('data-phase'), 'up');
  t.is(await vf.locator('g.vhost[data-vhost="2"]').getAttribute('data-owner'), port);
  await s.agent!.controller.idle();
  const revision = String(s.agent!.controller.view().revision);
  await page.waitForFunction((r) => document.getElementById('revision')?.textContent === r, revision);
  t.is(await page.locator('#revision').innerText(), revision);
  await screenshot(page, 'viz-live-plugged');
  t.deepEqual(errors, [], 'no script errors on the page');

  // stopping the agent closes the page's server; the open page says so
  await s.stopAgent();
  await t.throwsAsync(fetch(new URL('/api/view', viz.url)));
  await page.waitForSelector('#connection.down');
});

test('live: a port with an invalid MAC shows its failure reason', async (t) => {
  const { s, page, errors } = await openLive(t);
  const port = 'e0000000-0000-0000-0000-00000000000e';
  await pyBind(s.client, s.host, { portId: port, vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:zz:00:0e' });
  const status = await waitForValue(s.client, keys.portStatus(s.host, port), (v) => v?.startsWith('error') === true);
  await page.waitForSelector(`#ports-table tr[data-port-id="${port}"][data-state^="failed"]`);
  t.regex((await portState(page, port)) ?? '', /^failed/);
  await page.locator(`#ports-table tr[data-port-id="${port}"]`).click();
  const reason = await page.locator(`[data-panel-port="${port}"] .last-error`).innerText();
  t.regex(reason, /mac_address/);
  t.regex(reason, /fa:16:3e:zz:00:0e/);
  t.true(status!.includes(reason.replace(/^last error:\s*/, '').slice(0, 40)), 'the page shows the reason the agent reported in port_status');
  t.is(await page.locator(`[data-panel-port="${port}"] svg.machine .box.current`).getAttribute('data-state'), 'failed');
  t.is(await page.locator(`[data-panel-port="${port}"] svg.machine rect.child.current`).count(), 1);
  t.regex(await page.locator(`[data-panel-port="${port}"] .why`).innerText(), /cannot be done: .*mac_address/);
  await screenshot(page, 'viz-live-error');
  t.deepEqual(errors, [], 'no script errors on the page');
});
