/**
 * The docs' screenshots are taken by a script the suite runs: here into
 * test-artifacts/screenshots/ (docs/images/ when run by hand), so a change
 * that breaks the page or the script fails here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { takeScreenshots } from '../scripts/viz-screenshot';
import { ARTIFACTS } from './helpers/browser';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('viz-screenshot takes the host view, a port panel and the cluster view', async (t) => {
  const files = await takeScreenshots(join(ARTIFACTS, 'screenshots'));
  t.deepEqual(
    files.map((f) => f.split('/').pop()),
    ['visualizer-host.png', 'visualizer-port.png', 'visualizer-cluster.png'],
  );
  for (const f of files) {
    const png = readFileSync(f);
    t.deepEqual(png.subarray(0, 8), PNG, `${f} is a PNG`);
    // width and height from the IHDR chunk: a real page, not an empty clip
    t.true(png.readUInt32BE(16) >= 1000 && png.readUInt32BE(20) >= 600, `${f}: ${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`);
  }
});
