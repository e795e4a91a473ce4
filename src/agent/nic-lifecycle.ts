/**
 * The NIC machines of one host: one per spp_vf of the configuration, started
 * again when the configuration changes. Their actors wait for spp-ctl to list
 * the vf and build its layout; what they announce (ready or not) goes to the
 * ports on the vf.
 */
import { createActor, fromPromise } from 'xstate';
import { type NicRunInput, type NicRunOutput, nicMachine } from '../../machines/nic';
import { stateName } from '../../machines/state-name';
import { driftRemedy, layoutDrift } from '../plan/drift';
import { observeVhost } from '../plan/observed';
import { foreignComponents, planLayout, planVhost } from '../plan/planner';
import type { NicLayout } from '../protocol/layout';
import type { Coordinator } from './coordinator';
import type { HostRuntime } from './host-runtime';
import { sppCtlFailure } from './io';
import { processTimers, routineResync } from './process-watch';
import { VfWorker } from './vf-worker';

/** The NicLifecycle that started the machine, from the owner its actors and actions are given. */
function lifecycleOf(input: NicRunInput): NicLifecycle {
  if (input.owner instanceof NicLifecycle) return input.owner;
  throw new Error('nic machine: started without its host (input.owner is not a NicLifecycle)');
}

/** The NIC machine with the agent's actors, provided once per process, as the port machine (port-sync.ts). */
const providedNicMachine = nicMachine.provide({
  actors: {
    waitForVf: fromPromise<void, NicRunInput>(async ({ input }) => lifecycleOf(input).waitForVf(input.secId)),
    build: fromPromise<NicRunOutput, NicRunInput>(async ({ input }) => lifecycleOf(input).build(input.secId)),
  },
  actions: {
    announceReady: (_, params) => lifecycleOf(params).announce(params.secId, true),
    announceNotReady: (_, params) => lifecycleOf(params).announce(params.secId, false, params.reason),
  },
});

export class NicLifecycle {
  /** The vf ports live tap flows moved into the mirror (src/agent/tap-sync.ts): a build leaves them detached. */
  moved: (secId: number) => ReadonlySet<string> = () => new Set();
  /** Told when a vf becomes usable or not (`changed`: rebuilt): the tap flows on it. */
  onAnnounce: (secId: number, ready: boolean, changed: boolean) => void = () => {};
  constructor(
    private readonly rt: HostRuntime,
    private readonly links: Coordinator,
    /** Called on every NIC state change (idle detection). */
    private readonly onState: () => void,
  ) {}

  /** Stops the NIC machines of the old layout and starts one per NIC of `layout`. */
  start(layout: readonly NicLayout[]): void {
    const { rt, links } = this;
    for (const nic of links.nics.values()) nic.actor.stop();
    links.nics.clear();
    for (const nicLayout of layout) {
      const worker = new VfWorker(nicLayout.secId, rt.sppctl, (cmd, text) => {
        rt.log.info('spp-ctl command', { secId: cmd.secId, command: text });
        rt.opts.onCommand?.(cmd, text);
      });
      const actor = createActor(providedNicMachine, {
        input: {
          owner: this,
          secId: nicLayout.secId,
          ...processTimers(rt),
        },
        ...rt.actorOptions,
      });
      let last = '';
      const isRoutine = routineResync();
      actor.subscribe((snap) => {
        const state = stateName(snap.value);
        if (state === last) return;
        last = state;
        const fields = { secId: nicLayout.secId, nic: nicLayout.nic.pci_address, state, lastError: snap.context.lastError };
        const routine = isRoutine(snap);
        rt.opts.onNicState?.(nicLayout.secId, state, snap.context.lastError);
        if (snap.hasTag('retrying')) rt.log.warn('spp_vf not usable yet', fields);
        else rt.log.log(routine ? 'debug' : 'info', 'nic state', { ...fields, commands: snap.context.lastCommands.length });
        rt.notify({ secId: nicLayout.secId });
        this.onState();
      });
      links.nics.set(nicLayout.secId, { layout: nicLayout, worker, actor, changed: false });
      // a new layout: the ports on this spp_vf wait until it is built again
      links.toPorts(nicLayout.secId, false, false);
      actor.start();
    }
  }

  /** What the NIC machine's announceReady/announceNotReady do: the vf's ready gate, and the ports on it. */
  announce(secId: number, ready: boolean, reason = ''): void {
    const runtime = this.links.nicFor(secId);
    runtime.worker.setReady(ready, reason);
    this.links.toPorts(secId, ready, ready && runtime.changed);
    this.onAnnounce(secId, ready, ready && runtime.changed);
    if (ready) runtime.changed = false;
  }

  async waitForVf(secId: number): Promise<void> {
    const nic = this.links.nicFor(secId).layout;
    const processes = await this.rt.sppctl.processes();
    const found = processes.some((p) => p.type === 'vf' && 'client-id' in p && p['client-id'] === nic.secId);
    if (!found) {
      const listed = processes.map((p) => ('client-id' in p ? `${p.type}:${p['client-id']}` : p.type)).join(', ') || 'nothing';
      // 18.08.3 to 19.08 list only the vfs whose status spp-ctl could read (upstream-final.md section 3, #8)
      const family = this.rt.releases.belief(secId).family;
      const probed = family === '18.08.3' || family === '>=18.08.3' || family === '>=18.08.4';
      const hint = probed
        ? `; if it runs: from SPP 18.08.3 to 19.08 spp-ctl leaves out a vf whose status is 4096 bytes or more (spp config build --spp-version checks the layout), until that spp_vf restarts`
        : '';
      throw new Error(`spp_vf ${nic.secId} (NIC ${nic.nic.pci_address}) is not connected to spp-ctl; GET /v1/processes lists ${listed}${hint}`);
    }
  }

  /** Reads the vf, starts/attaches what the layout lacks, and clears vhosts no port wants. */
  async build(secId: number): Promise<{ commands: string[] }> {
    const runtime = this.links.nicFor(secId);
    const { layout, worker } = runtime;
    const { rt } = this;
    return worker.exclusive(async () => {
      // Compared with the last status known, not the cache: a failed command
      // drops the cache, and treating that as "spp_vf changed" would send every
      // port in backoff straight back to a plan that fails again (a storm).
      const before = worker.lastKnown;
      const status = await worker.refresh().catch((err) => {
        throw new Error(explainStatusFailure(layout.secId, err));
      });
      // What ports care about is their vhost's entry and VLAN settings; the
      // cached copy may differ from spp_vf's own in order alone.
      runtime.changed =
        before === undefined || layout.targets.some((tg) => JSON.stringify(observeVhost(before, tg)) !== JSON.stringify(observeVhost(status, tg)));
      const foreign = foreignComponents(layout, status);
      if (foreign.length > 0)
        rt.log.warn('spp_vf runs components that are not in the layout; leaving them alone', { secId: layout.secId, components: foreign });
      const drift = layoutDrift(layout, status);
      if (drift.length > 0) {
        rt.log.warn('spp_vf was built from another layout than the configuration declares; the agent leaves component types to the operator', {
          secId: layout.secId,
          drift: drift.map((d) => d.text),
          remedy: driftRemedy(layout.secId),
        });
      }
      // the classifier spelled as this vf's release wants it, so that the logs say what is sent
      const plan = planLayout(layout, status, this.links.desiredOn(layout.secId), this.moved(layout.secId)).map((cmd) => rt.releases.spell(cmd));
      const done = await worker.execute(plan);
      if (plan.length > 0) {
        runtime.changed = true;
        // spp_vf keeps the classifier entry of a detached port hidden and shows
        // it again once the port is re-attached, which the cached status cannot
        // predict (an unplug cut short between detach and delete): read it.
        await worker.refresh();
      }
      for (const v of layout.vhostIds) {
        if (this.links.referenced(v)) continue;
        const clear = planVhost(layout, v, rt.free, await worker.currentStatus());
        if (clear.length === 0) continue;
        rt.log.info('clearing a vhost no port wants', { secId: layout.secId, vhost: v });
        try {
          done.commands.push(...(await worker.execute(clear)).commands);
        } catch (err) {
          rt.log.error('could not clear vhost', { secId: layout.secId, vhost: v, error: sppCtlFailure(err).message });
        }
      }
      return done;
    });
  }

  /** A vhost that a port wanted and no port wants any more (keys deleted, input became invalid). */
  clearVhost(vhostId: number, formerPort: string): void {
    const { rt } = this;
    const nic = rt.active?.layout.find((n) => n.vhostIds.includes(vhostId));
    const runtime = nic && this.links.nics.get(nic.secId);
    if (!nic || !runtime?.worker.ready) return; // the next build clears it
    void runtime.worker
      .exclusive(async () => runtime.worker.execute(planVhost(nic, vhostId, rt.free, await runtime.worker.currentStatus())))
      .then(
        (done) => done.commands.length > 0 && rt.log.info('cleared vhost of a port that no longer wants it', { port: formerPort, vhost: vhostId }),
        (err) => rt.log.error('could not clear vhost', { port: formerPort, vhost: vhostId, error: sppCtlFailure(err).message }),
      );
  }

  /** Asks each NIC machine to stop, then stops it. */
  stop(): void {
    for (const n of this.links.nics.values()) n.actor.send({ type: 'STOP' });
    for (const n of this.links.nics.values()) n.actor.stop();
  }
}

/** What a failed status read most likely means, with what to do. */
export function explainStatusFailure(secId: number, err: unknown): string {
  const f = sppCtlFailure(err);
  if (f.status === 500) {
    return (
      `GET /v1/vfs/${secId} answered 500: the real spp-ctl cannot return a vf status of 4096 bytes or more ` +
      `(about 6 vhosts on one NIC); configure at most 5 vhosts per NIC (spp config build warns), or fix spp-ctl's recv buffer. (${f.message})`
    );
  }
  if (f.status === 404) return `spp-ctl does not know spp_vf ${secId} (${f.message}); is the spp_vf process for this NIC running?`;
  return `cannot read the status of spp_vf ${secId}: ${f.message}`;
}
