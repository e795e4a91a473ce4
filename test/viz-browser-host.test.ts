/**
 * The host view in real headless Chromium over a running agent (real etcd,
 * the emulator over HTTP) on a host of 4 NICs x 4 vhosts: 14 ports up, one
 * failed (its MAC does not parse) and one plugging (spp_vf answers at a slow
 * main-loop tick).
 */
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { MAPPINGS_4X4, macOf, portIdOf } from './helpers/frames';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { nicsReady, startSystem } from './helpers/system';
import { listedPorts, overlaps } from './helpers/viz-page';

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

const FAILED = 14;
const PLUGGING = 15;
const physOf = (v: number): string => `phys${Math.floor(v / 4) + 1}`;
const vlanOf = (v: number): number | undefined => (v % 2 === 1 ? 100 + v : undefined);

test('host view: 4 spp_vf drawings with their entries, the failed vhost in the failed colour, list, search, panel', async (t) => {
  const s = await startSystem(t, {
    mappings: MAPPINGS_4X4,
    // the in-flight plug below must not time out into retrying on a slow machine before its colour is read (the agent's stop waits for it)
    settings: { ui: '127.0.0.1:0', reassert: 'off', sppCtlTimeout: '30' },
  });
  const viz = await s.agent!.viz;
  if (!viz) throw new Error('the agent did not start the visualizer');
  const page = await browser.newPage();
  t.teardown(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(viz.url);
  await nicsReady(s, 20_000);

  const up = Array.from({ length: 14 }, (_, v) => v);
  await Promise.all(
    up.map((v) =>
      pyBind(s.client, s.host, { portId: portIdOf(v + 1), vhostId: v, phys: physOf(v), mac: macOf(v + 1), ...(vlanOf(v) ? { vlan: vlanOf(v)! } : {}) }),
    ),
  );
  await Promise.all(up.map((v) => waitUp(s.client, s.host, portIdOf(v + 1), 20_000)));
  const failed = portIdOf(FAILED + 1);
  await pyBind(s.client, s.host, { portId: failed, vhostId: FAILED, phys: physOf(FAILED), mac: 'fa:16:3e:00:0f:zz' });
  await waitForValue(s.client, keys.portStatus(s.host, failed), (v) => v?.startsWith('error') === true);
  // spp_vf answers each command at its next main-loop tick, a minute apart: the next plug stays in flight for the whole test, however slow the machine
  s.sim.emulator.setPollInterval(60_000);
  t.teardown(() => s.sim.emulator.setPollInterval(0));
  const plugging = portIdOf(PLUGGING + 1);
  await pyBind(s.client, s.host, { portId: plugging, vhostId: PLUGGING, phys: physOf(PLUGGING), mac: macOf(PLUGGING + 1) });
  await page.waitForSelector(`g.vhost[data-vhost="${PLUGGING}"][data-phase="plugging"]`);
  await page.waitForSelector(`g.vhost[data-vhost="${FAILED}"][data-phase="failed"]`);

  // failed first, then the one not converged, then the rest
  const order = await listedPorts(page);
  t.is(order.length, 16);
  t.deepEqual(order.slice(0, 2), [failed, plugging]);

  // four drawings, each with the classifier entries spp_vf reports, on the ring of their vhost
  t.is(await page.locator('.card.vf').count(), 4);
  // issue 30: the release the agent believes, from the status it read (the emulator's default, 18.08)
  t.regex(
    await page.locator('.card.vf[data-sec-id="1"] .release').innerText(),
    /^SPP <=18\.08\.2 \(18\.08, 18\.08\.1, 18\.08\.2\): the status has no master-lcore/,
  );
  for (const v of up) {
    const mac = macOf(v + 1).toUpperCase();
    const ring = page.locator(`.card.vf[data-sec-id="${Math.floor(v / 4) + 1}"] g[data-node="ring:${2 * v}"]`);
    t.is(await ring.locator('text.entry').textContent(), vlanOf(v) ? `vlan ${vlanOf(v)}/${mac}` : `mac ${mac}`, `vhost ${v}'s entry on ring:${2 * v}`);
    if (vlanOf(v)) {
      t.regex((await ring.textContent()) ?? '', /tx vlan del/);
      t.regex((await page.locator(`g[data-node="forward_${v}_rx"]`).textContent()) ?? '', new RegExp(`rx vlan add ${vlanOf(v)}`));
    }
  }
  for (let sec = 1; sec <= 3; sec++) t.is(await page.locator(`.card.vf[data-sec-id="${sec}"] text.entry`).count(), 4);
  t.is(await page.locator(`g[data-node="ring:${2 * FAILED}"] text.entry`).count(), 0, 'nothing programmed for the failed port');

  // the failed vhost in the failed colour, others in theirs
  // a live update may replace the drawing between finding the rect and reading it (a detached element has no style): read again
  const fill = async (v: number): Promise<string> => {
    for (let i = 0; ; i++) {
      const f = await page.locator(`g.vhost[data-vhost="${v}"] rect`).evaluate((el) => (el.isConnected ? getComputedStyle(el).fill : ''));
      if (f !== '' || i >= 50) return f;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  t.is(await fill(FAILED), 'rgb(255, 201, 201)');
  t.is(await fill(0), 'rgb(201, 242, 213)');
  t.is(await fill(PLUGGING), 'rgb(207, 224, 255)');
  t.is(await page.locator('g.vhost[data-phase="up"]').count(), 14);

  // filter by state
  await page.locator('#phase-filter').selectOption('failed');
  t.deepEqual(await listedPorts(page), [failed]);
  await page.locator('#phase-filter').selectOption('attention');
  t.deepEqual(await listedPorts(page), [failed, plugging]);
  await page.locator('#phase-filter').selectOption('up');
  t.is((await listedPorts(page)).length, 14);
  await page.locator('#phase-filter').selectOption('');
  // search by MAC (either case) and by port id
  await page.locator('#port-search').fill(macOf(6).toUpperCase());
  t.deepEqual(await listedPorts(page), [portIdOf(6)]);
  await page.locator('#port-search').fill(portIdOf(10).slice(0, 8));
  t.deepEqual(await listedPorts(page), [portIdOf(10)]);
  await page.locator('#port-search').fill('no-such-port');
  t.deepEqual(await listedPorts(page), []);
  t.regex(await page.locator('#ports-table').innerText(), /no port matches/);
  await page.locator('#port-search').fill('');

  // clicking a vhost opens its port
  await page.locator(`g.vhost[data-vhost="${FAILED}"]`).click();
  const panel = page.locator(`[data-panel-port="${failed}"]`);
  await panel.waitFor();
  t.regex(await panel.locator('.why').innerText(), /cannot be done: .*mac_address/);
  t.is(await panel.locator('svg.machine').count(), 1, 'one machine diagram in the panel');
  t.is(await panel.locator('svg.machine .box.current').getAttribute('data-state'), 'failed');
  t.regex(await panel.locator('table.timeline').innerText(), /failed\.reported/);
  await page.locator(`g.vhost[data-vhost="${PLUGGING}"]`).click();
  await page.locator(`[data-panel-port="${plugging}"]`).waitFor();
  t.regex(await page.locator(`[data-panel-port="${plugging}"] .why`).innerText(), /in flight|waiting for spp_vf/);

  // no two text boxes (nor two nodes) of any diagram intersect
  await page.locator('#machines-section summary').click();
  t.deepEqual(await overlaps(page, 'svg.vf-drawing'), []);
  t.deepEqual(await overlaps(page, 'svg.machine'), []);
  t.true((await page.locator('svg.vf-drawing text').count()) > 150, 'the check saw the drawings');
  await screenshot(page, 'viz-host-4x4');
  // and the check does see an overlap when there is one
  await page.evaluate(() => {
    document.body.insertAdjacentHTML(
      'beforeend',
      '<svg class="probe" width="200" height="50"><text x="10" y="20">one label</text><text x="30" y="24">another</text></svg>',
    );
  });
  t.is((await overlaps(page, 'svg.probe')).length, 1);
  t.deepEqual(errors, [], 'no script errors on the page');
});
