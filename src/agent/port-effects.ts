/**
 * What a port machine's runs do: plug (the vhost's commands, then
 * port_status = up), unplug (clear the vhost, then the cleanup transaction),
 * report an error, and put `up` again while the driver may have missed it.
 * A run sends no event to any machine: it returns its outcome, which the
 * owner of the run (port-sync.ts) routes.
 */

import { NicRebuildError, PermanentError } from '../../machines/errors';
import { DEFAULT_PORT_TIMERS, type PlugInput, type ReportInput, type RunOutput, type UnplugInput } from '../../machines/port';
import type { ClassifierRule } from '../plan/observed';
import { observeVhost, type VhostObserved } from '../plan/observed';
import { planLayout } from '../plan/planner';
import { keys } from '../protocol/keys';
import { targetsOf } from '../protocol/layout';
import type { Coordinator } from './coordinator';
import type { HostRuntime, NicRuntime } from './host-runtime';
import { isRejected, sppCtlFailure } from './io';
import { type PortPlacement, portKind } from './port-kind';
import { AgentStopping } from './sppctl-gate';
import { bindRevision, historyShowsReassert, reassertDecision, type UpRecord, upForBind } from './up-writes';

/**
 * What a port's plug or unplug did. `ok`: the output for the port machine.
 * Otherwise the error the port machine gets, and, when the failure says the
 * spp_vf restarted or lost its layout, the NIC that must read it again or
 * rebuild (`resyncNic`), which its lifecycle is told before the port.
 */
export type PortOutcome<T> =
  | { readonly ok: true; readonly output: T }
  | { readonly ok: false; readonly error: unknown; readonly resyncNic?: { readonly nic: NicRuntime; readonly reason: string } };

type VhostRun = { readonly commands: string[]; readonly observed: VhostObserved };

export class PortEffects {
  /** Per port, the `up` puts of its current bind that this process made or found (src/agent/up-writes.ts). */
  private readonly announced = new Map<string, UpRecord>();

  constructor(
    private readonly rt: HostRuntime,
    private readonly links: Coordinator,
  ) {}

  async plug(input: PlugInput): Promise<PortOutcome<RunOutput>> {
    const { rt } = this;
    const { place, rule } = input.intent;
    const nic = this.links.nicFor(place.secId);
    // the bind this run plugs: one that arrives during the run is a new bind, with its own first `up`
    const bind = this.bindOf(input.portId);
    const run = await this.applyVhost(nic, place.vhostId, rule, 'present', input.portId);
    if (!run.ok) return run;
    const { commands, observed } = run.output;
    this.recordRun(input.portId, commands);
    const fields = {
      port: input.portId,
      vhost: place.vhostId,
      revision: input.revision,
      mac: rule.mac,
      ...(rule.vlan !== undefined ? { vlan: rule.vlan } : {}),
      commands: commands.length,
    };
    const known = this.announced.get(input.portId)?.bind === bind;
    const status = rt.store.get(keys.portStatus(input.host, input.portId));
    if (known || upForBind(status, bind)) {
      // put by this process, or found at a restart: every driver that watched before that put saw it; a late one gets the re-assert
      if (!known) this.announced.set(input.portId, { bind, first: 'found', foundAt: status?.modRevision, reasserts: 0 });
      this.markOutcomeLogged(input.portId, 'up');
      rt.log.info('port is up', { ...fields, portStatus: 'already up for this bind; not written again', statusRevision: status?.modRevision });
      return { ok: true, output: { observed, commands } };
    }
    const written = await rt.opts.etcd.putPortStatus({ host: input.host, portId: input.portId, value: 'up', whileAction: 'plug' });
    if (written) this.announced.set(input.portId, { bind, first: 'put', reasserts: 0 });
    this.markOutcomeLogged(input.portId, 'up');
    rt.log.info(written ? 'port is up' : 'action is no longer plug; port_status not written', fields);
    return { ok: true, output: { observed, commands } };
  }

  async unplug(input: UnplugInput): Promise<PortOutcome<RunOutput>> {
    const { rt } = this;
    const { place, rule } = input.intent;
    let out: RunOutput = { commands: [] };
    if (place && rule && !this.links.pluggedByOther(place.vhostId, input.portId)) {
      const nic = this.links.nicFor(place.secId);
      const run = await this.applyVhost(nic, place.vhostId, rule, 'absent', input.portId);
      if (run.ok) out = run.output;
      else if (run.error instanceof PermanentError) {
        // The driver waits for the keys to go; a vhost spp_vf will not clear
        // is logged and left for the next resync, not held against the port.
        rt.log.error('could not clear the vhost in spp_vf; removing the port keys anyway', {
          port: input.portId,
          vhost: place.vhostId,
          error: run.error.message,
        });
      } else return run;
      this.recordRun(input.portId, out.commands);
    }
    const cleaned = await rt.opts.etcd.cleanupPort(input.host, input.portId, place?.vhostKey);
    this.announced.delete(input.portId);
    this.markOutcomeLogged(input.portId, 'unplugged');
    if (cleaned) rt.log.info('port unplugged', { port: input.portId, vhost: place?.vhostId, revision: input.revision, commands: out.commands.length });
    else rt.log.info('action changed during unplug; keys left for the new action', { port: input.portId, vhost: place?.vhostId, revision: input.revision });
    return { ok: true, output: out };
  }

  /** The port's machine is gone: its `up` record too. */
  forget(portId: string): void {
    this.announced.delete(portId);
  }

  async reportError(input: ReportInput): Promise<void> {
    const reason = input.reason.length > 400 ? `${input.reason.slice(0, 400)}...` : input.reason;
    const written = await this.rt.opts.etcd.putPortStatus({ host: input.host, portId: input.portId, value: `error: ${reason}`, whileAction: 'any' });
    this.rt.log.error('port failed', { port: input.portId, error: reason, reported: written ? 'port_status' : 'not written: no action key' });
  }

  reassertUp(portId: string): void {
    const { rt } = this;
    if (rt.stopping) return;
    this.reassert(portId).catch((err) => rt.log.debug('re-put port_status up failed', { port: portId, error: String(err) }));
  }

  /** At a re-assert timer: puts `up` again unless src/agent/up-writes.ts shows no driver can still be waiting for it. */
  private async reassert(portId: string): Promise<void> {
    const { rt } = this;
    const record = this.announced.get(portId);
    const scheduled = (rt.opts.portTimers ?? DEFAULT_PORT_TIMERS).reassertMs.length;
    const decision = reassertDecision(record, this.bindOf(portId), scheduled);
    if (decision.kind === 'skip' || !record) {
      rt.log.debug('port_status up not put again', { port: portId, reason: decision.kind === 'skip' ? decision.reason : 'no record' });
      return;
    }
    record.reasserts += 1;
    if (decision.kind === 'check-history' && (await this.historyShowsReassert(portId, decision.foundAt, decision.bind))) {
      rt.log.info('port_status up was re-asserted for this bind before the restart; not put again', {
        port: portId,
        statusRevision: decision.foundAt,
        bindRevision: decision.bind,
      });
      return;
    }
    const written = await rt.opts.etcd.putPortStatus({ host: rt.host, portId, value: 'up', whileAction: 'plug' });
    rt.log.debug('re-put port_status up', { port: portId, written });
  }

  /** Whether the put before the found `up` was an `up` of the same bind; a history etcd no longer has shows nothing. */
  private async historyShowsReassert(portId: string, foundAt: number, bind: number): Promise<boolean> {
    const read = this.rt.opts.etcd.readBefore;
    if (!read) return false;
    try {
      return historyShowsReassert(await read.call(this.rt.opts.etcd, keys.portStatus(this.rt.host, portId), foundAt), bind);
    } catch (err) {
      this.rt.log.debug('port_status history not readable; re-asserting up', { port: portId, revision: foundAt - 1, error: String(err) });
      return false;
    }
  }

  private bindOf(portId: string): number {
    const { store, host } = this.rt;
    return bindRevision(store.get(keys.bindPort(host, portId)), store.get(keys.action(host, portId)));
  }

  /**
   * Applies the plan for one vhost; on a rejection re-reads the vf and tries
   * the repaired plan once. A re-read that shows the vf without the NIC's
   * layout (spp_vf or spp-ctl restarted) hands the NIC back to building
   * (`resyncNic`): the port waits for it (NicRebuildError), and no port
   * error is reported.
   */
  private async applyVhost(nic: NicRuntime, vhostId: number, rule: ClassifierRule, want: 'present' | 'absent', portId: string): Promise<PortOutcome<VhostRun>> {
    const { worker, layout } = nic;
    const { log } = this.rt;
    const placement: PortPlacement = { nic: layout, vhostId, rule, free: this.rt.free };
    // the port machine waits for its NIC; this is a NIC that stopped being usable since
    if (!worker.ready) throw new Error(`spp_vf ${layout.secId} is not ready: ${worker.notReadyReason ?? 'unknown'}`);
    const size = (): number | undefined => {
      const status = worker.status;
      return status && portKind.plan(placement, want, status).length;
    };
    return worker.planned(size, async (): Promise<PortOutcome<VhostRun>> => {
      const commands: string[] = [];
      for (let attempt = 1; ; attempt++) {
        const plan = portKind.plan(placement, want, await worker.currentStatus());
        let err: unknown;
        try {
          const run = await worker.attempt(plan);
          commands.push(...run.commands);
          if (!run.failed) return { ok: true, output: { commands, observed: observeVhost(await worker.currentStatus(), targetsOf(layout, vhostId)) } };
          err = run.failure;
        } catch (thrown) {
          err = thrown;
        }
        if (err instanceof AgentStopping) return { ok: false, error: err };
        const failure = sppCtlFailure(err);
        if (!isRejected(err)) return { ok: false, error: err, resyncNic: { nic, reason: failure.message } };
        const missing = planLayout(layout, await worker.refresh()).length;
        if (missing > 0) {
          const reason = `spp-ctl rejected a command for vhost ${vhostId} (${failure.message}) and spp_vf ${layout.secId} lacks ${missing} component(s)/port(s) of its layout (restarted?): rebuilding the NIC`;
          log.warn('spp_vf lost its layout; rebuilding the NIC before the port', {
            port: portId,
            vhost: vhostId,
            secId: layout.secId,
            error: failure.message,
            missing,
          });
          return { ok: false, error: new NicRebuildError(reason), resyncNic: { nic, reason } };
        }
        if (attempt >= 2) {
          return {
            ok: false,
            error: new PermanentError(`spp-ctl rejected the plan for vhost ${vhostId} even after re-reading the vf status: ${failure.message}`),
          };
        }
        log.warn('spp-ctl rejected a command; re-reading the vf status to plan a repair', { port: portId, vhost: vhostId, error: failure.message });
      }
    });
  }

  private markOutcomeLogged(portId: string, outcome: 'up' | 'unplugged'): void {
    const runtime = this.links.ports.get(portId);
    if (runtime) runtime.outcomeLogged = outcome;
  }

  private recordRun(portId: string, commands: readonly string[]): void {
    const runtime = this.links.ports.get(portId);
    if (runtime && commands.length > 0) this.rt.appendHistory(runtime, this.rt.store.revision, 'spp-ctl commands', undefined, commands);
  }
}
