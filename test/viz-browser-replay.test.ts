/**
 * The visualizer in real headless Chromium over replay frames (built by
 * driving a Controller by hand): the slider steps through the revisions.
 */
import test from 'ava';
import type { ViewFrame } from '../src/agent/view';
import { startVizServer } from '../src/viz/server';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { buildFrames, FRAME_PORT } from './helpers/frames';

let browser: Browser;
let frames: ViewFrame[] = [];
test.before(async () => {
  [browser, frames] = await Promise.all([launchBrowser(), buildFrames()]);
});
test.after.always(async () => {
  await browser?.close();
});

const stateAt = (frame: ViewFrame): string | undefined => frame.view.ports.find((p) => p.portId === FRAME_PORT)?.state;

test('replay: the slider moves the port through its states, frame by frame', async (t) => {
  const server = await startVizServer({ listen: { port: 0 }, source: { kind: 'frames', frames } });
  t.teardown(() => server.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.waitForSelector('#frame-label');
  t.true(await page.locator('#replay').isVisible());
  t.is(await page.locator('#frame').getAttribute('max'), String(frames.length - 1));

  const plugged = frames.findIndex((f) => stateAt(f)?.startsWith('plugged'));
  const removed = frames.findIndex((f) => stateAt(f) === 'removed');
  t.true(plugged > 0 && removed > plugged, 'the frames plug, then remove the port');

  const row = page.locator(`#ports-table tr[data-port-id="${FRAME_PORT}"]`);
  const card = page.locator(`[data-panel-port="${FRAME_PORT}"]`);
  // vhost 1 is on spp_vf 1; its classifier entry goes on ring:2
  const vhost = page.locator('.card.vf[data-sec-id="1"] g.vhost[data-vhost="1"]');
  const ring = page.locator('.card.vf[data-sec-id="1"] g[data-node="ring:2"]');
  t.is(await row.count(), 0, 'frame 1: no port yet');
  t.is(await vhost.getAttribute('data-phase'), 'free');
  t.regex(await page.locator('#frame-label').innerText(), new RegExp(`^frame 1/${frames.length} · revision ${frames[0]!.revision} · list: host set up`));

  await page.locator('#frame').fill(String(plugged));
  await page.waitForSelector(`#ports-table tr[data-port-id="${FRAME_PORT}"][data-state^="plugged"]`);
  t.regex(
    await page.locator('#frame-label').innerText(),
    new RegExp(`revision ${frames[plugged]!.revision} · put /spp/openstack/action/spp4/${FRAME_PORT} = plug`),
  );
  // the slider moves the host drawing: vhost 1 is up, its entry is on its ring
  t.is(await vhost.getAttribute('data-phase'), 'up');
  t.is(await vhost.getAttribute('data-owner'), FRAME_PORT);
  t.regex((await ring.locator('text.entry').textContent()) ?? '', /^mac FA:16:3E:00:00:0C$/);
  await vhost.click();
  t.is(await card.locator('svg.machine .box.current').getAttribute('data-state'), 'plugged');
  t.true((await card.locator('svg.machine .edge.taken').count()) >= 1, 'the path the port took is drawn');
  t.is(await page.locator('#revision').innerText(), String(frames[plugged]!.revision));
  await screenshot(page, 'viz-replay-plugged');

  await page.locator('#frame').fill(String(removed));
  await page.waitForSelector(`#ports-table tr[data-port-id="${FRAME_PORT}"][data-state="removed"]`);
  t.is(await card.locator('svg.machine .box.current').getAttribute('data-state'), 'removed');
  t.is(await vhost.getAttribute('data-phase'), 'free');
  t.is(await ring.locator('text.entry').count(), 0, 'the entry is gone from the drawing');

  // the step buttons move one frame
  await page.locator('#prev').click();
  t.is(await page.locator('#frame').inputValue(), String(removed - 1));
  t.is(await row.getAttribute('data-state'), stateAt(frames[removed - 1]!) ?? null);

  await page.locator('#frame').fill('0');
  await page.waitForFunction(() => document.querySelectorAll('#ports-table tr[data-port-id]').length === 0);
  t.is(await card.count(), 0, 'back at frame 1 the port is gone again');
  t.is(await vhost.getAttribute('data-phase'), 'free');
  await screenshot(page, 'viz-replay-start');
  t.deepEqual(errors, []);
});

test('replay: a vf that holds another MAC than the port wants shows the row highlighted', async (t) => {
  const plugged = frames.find((f) => stateAt(f)?.startsWith('plugged'))!;
  // what a resync would observe after someone changed the classifier table by hand
  const drifted: ViewFrame = {
    revision: plugged.revision,
    label: 'classifier entry changed outside the agent',
    view: {
      ...plugged.view,
      ports: plugged.view.ports.map((p) => (p.portId === FRAME_PORT ? { ...p, observed: { ...p.observed, rule: { mac: 'fa:16:3e:99:99:99' } } } : p)),
    },
  };
  const server = await startVizServer({ listen: { port: 0 }, source: { kind: 'frames', frames: [plugged, drifted] } });
  t.teardown(() => server.close());
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(server.url);
  await page.locator(`#ports-table tr[data-port-id="${FRAME_PORT}"]`).click();
  const card = page.locator(`[data-panel-port="${FRAME_PORT}"]`);
  await card.waitFor();
  t.is(await card.locator('table.compare tr.differs').count(), 0);
  t.is(await page.locator('.card.vf g.node.differs').count(), 0);
  await page.locator('#next').click();
  await page.waitForSelector('table.compare tr.differs');
  // the drawing marks the ring whose entry is not the one desired, with the desired rule written on it
  const ring = page.locator('.card.vf[data-sec-id="1"] g[data-node="ring:2"]');
  t.regex((await ring.getAttribute('class')) ?? '', /\bdiffers\b/);
  t.regex((await ring.locator('text.diff').textContent()) ?? '', /desired: mac fa:16:3e:00:00:0c/);
  t.regex(await card.locator('.why').innerText(), /observed classifier rule is mac fa:16:3e:99:99:99, desired mac fa:16:3e:00:00:0c/);
  const row = card.locator('table.compare tr.differs');
  t.is(await row.count(), 1);
  t.regex(await row.innerText(), /classifier rule\s+mac fa:16:3e:00:00:0c\s+mac fa:16:3e:99:99:99\s+≠/);
  const background = await row
    .locator('td')
    .first()
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  t.not(background, 'rgba(0, 0, 0, 0)', 'the differing row is coloured');
  await screenshot(page, 'viz-replay-drift');
});
