/**
 * Takes docs/images/visualizer.png: the page over a short replay with a
 * VLAN port plugged and a port whose bind_port has an invalid MAC.
 * Run: npx tsc -p . && node dist/scripts/viz-screenshot.js
 */
import { join } from 'node:path';
import { keys } from '../src/protocol/keys';
import { startVizServer } from '../src/viz/server';
import { launchBrowser } from '../test/helpers/browser';
import { FRAME_HOST, buildFrames } from '../test/helpers/frames';

const GOOD = '6160c9da-b2d5-4236-8413-7d646e5c0ae2';
const BAD = '7f1e0c44-2a57-4c8f-9a55-0bd4d2f0e001';

async function main(): Promise<void> {
  const frames = await buildFrames([
    [keys.vhost(FRAME_HOST, 'phys2', 2), GOOD],
    [keys.bindPort(FRAME_HOST, GOOD), '{"vhost_id": 2, "mac_address": "fa:16:3e:a0:da:db", "vlan_id": 100}'],
    [keys.action(FRAME_HOST, GOOD), 'plug'],
    [keys.vhost(FRAME_HOST, 'phys1', 0), BAD],
    [keys.bindPort(FRAME_HOST, BAD), '{"vhost_id": 0, "mac_address": "fa:16:3e:00:00:zz"}'],
    [keys.action(FRAME_HOST, BAD), 'plug'],
  ]);
  const server = await startVizServer({ listen: { port: 0 }, source: { kind: 'frames', frames } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForSelector('#frame-label');
    await page.locator('#frame').fill(String(frames.length - 1));
    await page.waitForSelector(`[data-port-id="${BAD}"] .last-error`);
    const out = join(__dirname, '..', '..', 'docs', 'images', 'visualizer.png');
    // the top of the page: header, slider, both ports and the first NIC
    await page.screenshot({ path: out, fullPage: true, clip: { x: 0, y: 0, width: 1400, height: 1900 } });
    process.stdout.write(`${out}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`viz-screenshot: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
