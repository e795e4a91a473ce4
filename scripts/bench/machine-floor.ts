/**
 * The replay's floor: what its machines alone cost, with nothing around them
 * (no controller, no spp-ctl, no etcd; actors that return at once). A NIC
 * lives as at a replay's start (created, its vf found, its layout built,
 * ready, stopped); a port is created on a plug intent, its plug run resolved,
 * and, as in a replayed history, sent a DESIRED unplug and its unplug run
 * resolved, then stopped. Run in a fresh process (this file, run directly),
 * so the first pass includes xstate's cold code as the replay's child does.
 *
 * Standalone: `node dist/scripts/bench/machine-floor.js PORTS NICS unplug|plug`.
 */
import { performance } from 'node:perf_hooks';
import { createActor, fromPromise, SimulatedClock, waitFor } from 'xstate';
import { type NicRunInput, type NicRunOutput, nicMachine } from '../../machines/nic';
import { type PlugInput, portMachine, type ReportInput, type RunOutput, type UnplugInput } from '../../machines/port';
import type { PortIntent } from '../../src/plan/desired';
import { childFigure } from './child';

export interface FloorWork {
  readonly ports: number;
  readonly nics: number;
  /** Each port is unplugged too (a history), or only plugged (a snapshot). */
  readonly unplug: boolean;
}
export type MachineFloor = { readonly failed: string } | (FloorWork & { readonly coldMs: number; readonly warmMs: number });

const nic = nicMachine.provide({
  actors: {
    waitForVf: fromPromise<void, NicRunInput>(async () => {}),
    build: fromPromise<NicRunOutput, NicRunInput>(async () => ({ commands: [] })),
  },
});

const port = portMachine.provide({
  actors: {
    plug: fromPromise<RunOutput, PlugInput>(async ({ input }) => ({ commands: ['x'], observed: { rule: input.intent.rule } })),
    unplug: fromPromise<RunOutput, UnplugInput>(async () => ({ commands: [] })),
    reportError: fromPromise<void, ReportInput>(async () => {}),
  },
});

const timers = { reassertMs: [], backoffBaseMs: 500, backoffMaxMs: 30_000 };

async function lifecycles(work: FloorWork): Promise<number> {
  const clock = new SimulatedClock();
  const t0 = performance.now();
  for (let n = 0; n < work.nics; n++) {
    const actor = createActor(nic, { input: { secId: 1 + (n % 4), resyncIntervalMs: 2 ** 31 - 1 }, clock }).start();
    await waitFor(actor, (s) => s.matches('ready'));
    actor.send({ type: 'STOP' });
    actor.stop();
  }
  for (let n = 0; n < work.ports; n++) {
    const mac = `fa:16:3e:00:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}`;
    const place = { vhostId: n % 16, secId: 1 + (n % 4), vhostKey: `/spp/openstack/vhost/h/phys1/${n % 16}` };
    const plug: PortIntent = { kind: 'plug', place, rule: { mac } };
    const unplug: PortIntent = { kind: 'unplug', place, rule: { mac } };
    const actor = createActor(port, { input: { host: 'h', portId: `p${n}`, intent: plug, revision: n, timers }, clock }).start();
    await waitFor(actor, (s) => s.matches('plugged'));
    if (work.unplug) {
      actor.send({ type: 'DESIRED', intent: unplug, revision: n + 1 });
      await waitFor(actor, (s) => s.matches('removed'));
    }
    actor.stop();
  }
  return performance.now() - t0;
}

/** Times the lifecycles in a fresh process: the first pass (cold), then a second one (warm). */
export function benchMachineFloor(work: FloorWork, timeoutMs = 120_000): Promise<MachineFloor> {
  return childFigure<MachineFloor>([__filename, String(work.ports), String(work.nics), work.unplug ? 'unplug' : 'plug', 'child'], timeoutMs);
}

if (require.main === module) {
  const [ports, nics, mode, child] = process.argv.slice(2);
  const work: FloorWork = { ports: Number(ports ?? 1_669), nics: Number(nics ?? 0), unplug: mode !== 'plug' };
  const job =
    child === 'child'
      ? (async () => {
          const coldMs = await lifecycles(work);
          const warmMs = await lifecycles(work);
          process.stdout.write(`${JSON.stringify({ ...work, coldMs, warmMs })}\n`);
        })()
      : benchMachineFloor(work).then((r) => void process.stdout.write(`${JSON.stringify(r)}\n`));
  job.then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
