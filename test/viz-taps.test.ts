/**
 * Taps on the page (TaaS), over a running agent (real etcd, the emulator's
 * spp_vfs and spp_mirror over HTTP): the mirror drawn with its components
 * and the rings it took from the vfs, the vf drawings naming the rings a
 * flow moved, and each flow with its state (asked by tag), direction,
 * ports and last error; in the API and in real headless Chromium.
 */
import test from 'ava';
import { type HostPage, hostPage } from '../src/viz/host-page';
import { type Browser, launchBrowser, screenshot } from './helpers/browser';
import { conflictingTap, createUpTap, startTapSystem, tapPorts } from './helpers/tap-system';
import { overlaps } from './helpers/viz-page';

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after.always(async () => {
  await browser?.close();
});

const PORTS = tapPorts('d0000000');
const SERVICE = PORTS.service;
const SOURCE = PORTS.source;

const lines = (page: HostPage, drawing: 'mirror' | number, node: string): string[] => {
  const d = drawing === 'mirror' ? page.mirrorDrawing! : page.drawings.find((x) => x.secId === drawing)!;
  return d.nodes.find((n) => n.id === node)?.lines.map((l) => l.text) ?? [];
};

test('the page: the mirror with its components and redirected rings, the vf rings a flow moved, each flow with its state, direction, ports and last error', async (t) => {
  const s = await startTapSystem(t, PORTS, { ui: '127.0.0.1:0' });
  const viz = (await s.agent!.viz)!;
  const getPage = async (): Promise<HostPage> => (await (await fetch(new URL('/api/view', viz.url))).json()) as HostPage;

  // before any flow: the mirror's components are drawn, free
  let page = await getPage();
  t.deepEqual(lines(page, 'mirror', 'mirror_0'), ['mirror_0 · mirror · core 16', 'rings ring:8 ring:9', 'free']);
  t.deepEqual(page.tapRows, []);

  await createUpTap(t, s, PORTS, 'tf-in', 'IN');
  // a second flow in the same direction on the same source: the agent reports it failed
  await conflictingTap(s, PORTS, 'tf-dup', 'IN');
  await s.agent!.controller.idle();

  page = await getPage();
  t.deepEqual(
    page.tapRows.map((r) => [r.flowId, r.phase, r.direction ?? null]),
    [
      ['tf-dup', 'failed', null],
      ['tf-in', 'up', 'IN'],
    ],
    'failed first; the phase from the machine tags',
  );
  const tfIn = page.tapRows.find((r) => r.flowId === 'tf-in')!;
  t.deepEqual(tfIn.source, { portId: SOURCE.portId, vhostId: 2, secId: 2 });
  t.deepEqual(tfIn.service, { portId: SERVICE.portId, vhostId: 1, secId: 1 });
  t.deepEqual(tfIn.legs, [{ dir: 'IN', mirrorId: 0, component: 'mirror_0' }]);
  t.regex(tfIn.redirects[0]!, /^IN: forward_2_tx \(spp_vf 2\) gave rx ring:4, the source's traffic to vhost:2, to mirror_0/);
  t.deepEqual(tfIn.missing, [], 'every ring where the plan puts it');
  t.is(tfIn.explanation?.verdict, 'up');
  const dup = page.tapRows.find((r) => r.flowId === 'tf-dup')!;
  t.regex(dup.lastError ?? '', /tap flow tf-in already mirrors IN of the source port/);
  t.is(dup.explanation?.verdict, 'conflict');

  // the mirror: mirror_0 reads ring:4 taken from forward_2_tx, writes the service's and the source's rings
  t.deepEqual(lines(page, 'mirror', 'mirror_0'), ['mirror_0 · mirror · core 16', 'rings ring:8 ring:9', 'tap tf-in IN']);
  t.deepEqual(lines(page, 'mirror', 'mirror_0/rx/ring:4'), ['rx ring:4', 'taken from forward_2_tx (spp_vf 2)', 'source vhost:2 in · tap tf-in IN']);
  t.deepEqual(lines(page, 'mirror', 'mirror_0/tx/ring:8'), ['tx ring:8', 'to forward_1_tx (spp_vf 1)', 'service vhost:1']);
  t.deepEqual(lines(page, 'mirror', 'mirror_0/tx/ring:9'), ['tx ring:9', 'to forward_2_tx (spp_vf 2)', 'back to source vhost:2']);
  t.false(
    page.mirrorDrawing!.nodes.some((n) => n.differs),
    'nothing differs',
  );
  t.is(page.mirrorDrawing!.edges.filter((e) => e.to === 'mirror_0' || e.from === 'mirror_0').length, 3);
  // the vfs: the ring forward_2_tx gave away is not a difference, and says where it went
  const fwd = lines(page, 2, 'forward_2_tx');
  t.true(fwd.includes('rx ring:4 → mirror_0 (tap tf-in IN)'), fwd.join('\n'));
  t.true(fwd.includes('rx ring:9 ← mirror_0 (tap tf-in IN)'));
  t.false(
    fwd.some((l) => l.startsWith('not attached')),
    fwd.join('\n'),
  );
  t.true(lines(page, 1, 'forward_1_tx').includes('rx ring:8 ← mirror_0 (tap tf-in IN copies)'));

  // the mirror's status without the ring it took (as after a mirror restart the agent has not re-applied yet): the flow's row and the drawing say so
  const view = s.agent!.controller.view();
  const status = view.mirror!.status!;
  const lost = { ...status, components: status.components.map((c) => ('name' in c && c.name === 'mirror_0' ? { ...c, rx_port: [] } : c)) };
  const broken = hostPage({ ...view, mirror: { ...view.mirror!, status: lost } });
  t.deepEqual(broken.tapRows.find((r) => r.flowId === 'tf-in')!.missing, ['mirror 3: port add ring:4 rx mirror_0']);
  const ring = broken.mirrorDrawing!.nodes.find((n) => n.id === 'mirror_0/rx/ring:4')!;
  t.true(ring.differs);
  t.true(ring.lines.some((l) => l.text === 'not attached' && l.cls === 'diff'));

  // in Chromium: the mirror's card, the flows with their chips (by phase), no text over another
  const browserPage = await browser.newPage();
  t.teardown(() => browserPage.close());
  const errors: string[] = [];
  browserPage.on('pageerror', (e) => errors.push(e.message));
  await browserPage.goto(viz.url);
  await browserPage.waitForSelector('article.mirror[data-mirror-sec-id="3"] g.mirror[data-node="mirror_0"]');
  await browserPage.waitForSelector('article.tap[data-tap-flow="tf-in"][data-phase="up"]');
  t.false(await browserPage.locator('#taps').isHidden());
  t.is(await browserPage.locator('#tap-count').innerText(), '2 tap flows');
  t.is(await browserPage.locator('article.tap[data-tap-flow="tf-dup"] .chip').getAttribute('data-phase'), 'failed');
  t.regex(await browserPage.locator('article.tap[data-tap-flow="tf-dup"] .last-error').innerText(), /already mirrors IN/);
  t.regex(await browserPage.locator('article.tap[data-tap-flow="tf-in"] .direction').innerText(), /^IN$/);
  t.regex(await browserPage.locator('article.tap[data-tap-flow="tf-in"] ul.redirects').innerText(), /forward_2_tx \(spp_vf 2\) gave rx ring:4/);
  t.is(await browserPage.locator('article.tap[data-tap-flow="tf-in"] .explain').getAttribute('data-verdict'), 'up');
  t.is(await browserPage.locator('article.vf[data-sec-id="2"] g[data-node="forward_2_tx"] text.tap').count(), 2);
  t.deepEqual(await overlaps(browserPage, 'svg.vf-drawing'), []);
  await screenshot(browserPage, 'viz-taps');
  t.deepEqual(errors, []);
});
