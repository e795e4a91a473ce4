/**
 * Takes the visualizer's screenshots for docs/visualizer.md:
 *   visualizer-host.png     the host view of a 4 NIC x 4 vhost host (replay)
 *   visualizer-port.png     the ports list and the panel of a port whose classifier entry was changed
 *   visualizer-cluster.png  the cluster view of hosts in a real local etcd
 * Run: npx tsc -p . && node dist/scripts/viz-screenshot.js [OUT_DIR]
 * (default docs/images; test/viz-screenshots.test.ts runs it into test-artifacts/).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { ViewFrame } from '../src/agent/view';
import { LocalEtcd } from '../src/localetcd/etcd-server';
import { watchCluster } from '../src/viz/cluster';
import { startVizServer } from '../src/viz/server';
import { launchBrowser } from '../test/helpers/browser';
import { seedCluster } from '../test/helpers/cluster';
import { buildFrames, MAPPINGS_4X4, plugSteps, portIdOf, type Steps } from '../test/helpers/frames';

/** The failed port of the host scene: its MAC does not parse. */
export const FAILED_VHOST = 3;
/** The port whose classifier entry is changed behind the agent's back in the last frame. */
export const DRIFT_VHOST = 5;

/** 4x4 host: most vhosts plugged (odd ones with a VLAN), vhost 3 failed on a bad MAC, 14 and 15 free. */
export async function hostFrames(): Promise<ViewFrame[]> {
  const steps: Steps = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13].filter((v) => v !== FAILED_VHOST).flatMap((v) => plugSteps(v + 1, v));
  const frames = await buildFrames([...steps, ...plugSteps(FAILED_VHOST + 1, FAILED_VHOST, 'fa:16:3e:00:0b:zz')], MAPPINGS_4X4);
  return [...frames, driftFrame(frames[frames.length - 1]!)];
}

/** What the agent would observe after someone replaced a classifier entry by hand (a resync would repair it). */
function driftFrame(last: ViewFrame): ViewFrame {
  const port = portIdOf(DRIFT_VHOST + 1);
  const ring = `ring:${2 * DRIFT_VHOST}`;
  const other = 'fa:16:3e:99:99:99';
  return {
    revision: last.revision,
    label: `classifier entry of vhost ${DRIFT_VHOST} changed outside the agent`,
    view: {
      ...last.view,
      nics: last.view.nics.map((n) =>
        n.status && n.layout.vhostIds.includes(DRIFT_VHOST)
          ? {
              ...n,
              status: {
                ...n.status,
                classifier_table: n.status.classifier_table.map((e) =>
                  e.port === ring ? { ...e, value: e.value.replace(/[0-9A-F:]{17}$/, other.toUpperCase()) } : e,
                ),
              },
            }
          : n,
      ),
      ports: last.view.ports.map((p) =>
        p.portId === port && p.observed ? { ...p, observed: { ...p.observed, rule: { ...p.observed.rule, mac: other } } } : p,
      ),
    },
  };
}

export async function takeScreenshots(outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const out = (name: string): string => join(outDir, name);
  const written: string[] = [];
  const browser = await launchBrowser();
  try {
    const frames = await hostFrames();
    const server = await startVizServer({ listen: { port: 0 }, source: { kind: 'frames', frames } });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#frame-label');
      await page.locator('#frame').fill(String(frames.length - 1));
      await page.waitForSelector(`g.vhost[data-vhost="${FAILED_VHOST}"][data-phase="failed"]`);
      // header, slider and the first two spp_vf drawings (the failed port and the changed entry are on them)
      const third = (await page.locator('.card.vf').nth(2).boundingBox())!;
      await page.screenshot({ path: out('visualizer-host.png'), fullPage: true, clip: { x: 0, y: 0, width: 1400, height: Math.round(third.y) - 4 } });
      written.push(out('visualizer-host.png'));
      // the port whose entry was changed: its path, commands, and the difference explained
      await page.locator(`g.vhost[data-vhost="${DRIFT_VHOST}"]`).click();
      await page.waitForSelector(`[data-panel-port="${portIdOf(DRIFT_VHOST + 1)}"]`);
      // the whole page is rendered (the sticky header stays at the top), clipped to the list and the panel
      await page.evaluate(() => window.scrollTo(0, 0));
      const split = (await page.locator('.split').boundingBox())!;
      await page.screenshot({ path: out('visualizer-port.png'), fullPage: true, clip: { x: 0, y: split.y - 8, width: 1400, height: split.height + 16 } });
      written.push(out('visualizer-port.png'));
      await page.close();
    } finally {
      await server.close();
    }

    const etcd = await LocalEtcd.start(1);
    const client = new Etcd3({ hosts: etcd.endpoints.map((e) => `http://${e}`) });
    const cluster = watchCluster(client, new Map());
    try {
      await seedCluster(client, { hosts: 8, portsPerHost: 4, alive: (i) => i % 3 !== 2 });
      const cserver = await startVizServer({ listen: { port: 0 }, source: { kind: 'cluster', cluster, agentUi: new Map() } });
      try {
        const page = await browser.newPage();
        await page.goto(cserver.url);
        await page.waitForFunction(() => document.querySelectorAll('#hosts-table tr[data-host]').length === 8);
        await page.locator('#hosts-table tr[data-host="compute-02"]').click();
        await page.waitForSelector('.host-facts[data-host="compute-02"]');
        await page.screenshot({ path: out('visualizer-cluster.png'), fullPage: true });
        written.push(out('visualizer-cluster.png'));
        await page.close();
      } finally {
        await cserver.close();
      }
    } finally {
      cluster.close();
      client.close();
      await etcd.stop();
    }
  } finally {
    await browser.close();
  }
  return written;
}

if (require.main === module) {
  takeScreenshots(process.argv[2] ?? join(__dirname, '..', '..', 'docs', 'images'))
    .then((files) => process.stdout.write(`${files.join('\n')}\n`))
    .catch((err: unknown) => {
      process.stderr.write(`viz-screenshot: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    });
}
