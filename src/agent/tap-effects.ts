/**
 * What a tap flow machine's runs do: plug (the planned vf and mirror
 * commands, then tap_status = up), unplug (the unplug plan, then the
 * clean-up: mirrors back to None, the flow's keys deleted) and the error
 * report. Steps go out as the plan's dependencies allow: one at a time per
 * process, different processes at once (src/plan/tap-plan.ts).
 */
import { NicRebuildError, PermanentError } from '../../machines/errors';
import type { TapRunInput, TapRunOutput } from '../../machines/tap';
import type { TapFlow } from '../plan/tap-desired';
import { tapKind } from '../plan/tap-kind';
import { readySteps, type TapStep, type TapWant } from '../plan/tap-plan';
import { decodeMirrorOwner } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import { isMirrorCommand, type ProcessCommand } from '../sppctl/commands';
import type { Coordinator } from './coordinator';
import type { HostRuntime } from './host-runtime';
import { isRejected, sppCtlFailure } from './io';
import type { MirrorProcess } from './mirror-process';
import { AgentStopping } from './sppctl-gate';

/** The flow's processes stopped being usable: the machine waits for them (as a port waits for its NIC). */
class NotReady extends NicRebuildError {}

export class TapEffects {
  constructor(
    private readonly rt: HostRuntime,
    private readonly links: Coordinator,
    private readonly mirror: () => MirrorProcess | undefined,
    /** Every command a run sent, for the flow's view. */
    private readonly onCommands: (flowId: string, commands: readonly string[]) => void,
  ) {}

  async plug(input: TapRunInput): Promise<TapRunOutput> {
    const { rt } = this;
    if (input.intent.kind !== 'plug') throw new Error('tap plug run without a plug intent');
    const flow = input.intent.flow;
    const commands = await this.apply(flow, 'present');
    const fields = this.fields(input, flow, commands.length);
    if (rt.store.get(keys.tapStatus(input.host, input.flowId))?.value === 'up') {
      rt.log.info('tap flow is up', { ...fields, tapStatus: 'already up; not written again' });
      return { commands };
    }
    const written = await rt.opts.etcd.putTapStatus({ host: input.host, flowId: input.flowId, value: 'up', whileAction: 'plug' });
    rt.log.info(written ? 'tap flow is up' : 'tap_action is no longer plug; tap_status not written', fields);
    return { commands };
  }

  async unplug(input: TapRunInput): Promise<TapRunOutput> {
    const { rt } = this;
    if (input.intent.kind !== 'unplug') throw new Error('tap unplug run without an unplug intent');
    const { flow, mirrorIds } = input.intent;
    const commands = flow ? await this.apply(flow, 'absent') : [];
    const action = rt.store.get(keys.tapAction(input.host, input.flowId))?.value ?? 'unplug';
    const mirrors = mirrorIds.flatMap((k) => {
      const key = keys.mirror(input.host, k);
      const raw = rt.store.get(key)?.value;
      if (raw === undefined) return [];
      const owner = decodeMirrorOwner(key, raw);
      // upstream puts None whatever the key holds; a mirror another flow has claimed since is left to it
      return owner.ok && (owner.value.free || owner.value.tapFlowId === input.flowId) ? [{ key, value: raw }] : [];
    });
    const cleaned = await rt.opts.etcd.cleanupTap({ host: input.host, flowId: input.flowId, action, mirrors });
    const fields = { ...this.fields(input, flow, commands.length), mirrorsFreed: mirrors.map((m) => m.key), cause: input.intent.cause };
    if (cleaned) rt.log.info('tap flow removed', fields);
    else rt.log.info('tap_action changed during the unplug; keys left for the new action', fields);
    return { commands };
  }

  async reportError(input: { host: string; flowId: string; reason: string }): Promise<void> {
    const reason = input.reason.length > 400 ? `${input.reason.slice(0, 400)}...` : input.reason;
    const written = await this.rt.opts.etcd.putTapStatus({ host: input.host, flowId: input.flowId, value: `error: ${reason}`, whileAction: 'any' });
    this.rt.log.error('tap flow failed', { tapFlow: input.flowId, error: reason, reported: written ? 'tap_status' : 'not written: no tap_action' });
  }

  private fields(input: TapRunInput, flow: TapFlow | undefined, commands: number): Record<string, unknown> {
    return {
      tapFlow: input.flowId,
      revision: input.revision,
      ...(flow
        ? {
            direction: flow.legs.map((l) => l.dir).join('+'),
            sourceVhost: flow.source.vhostId,
            serviceVhost: flow.service.vhostId,
            mirrors: flow.legs.map((l) => l.mirrorId),
          }
        : {}),
      commands,
    };
  }

  /**
   * Plans from the statuses held (read when none is), runs the plan; on a
   * rejection re-reads every process and runs the repaired plan once. A
   * process that does not answer, or lost what the agent built, is handed
   * back to its lifecycle (rebuild) and the flow waits for it.
   */
  private async apply(flow: TapFlow, want: TapWant): Promise<string[]> {
    const { rt } = this;
    const mirror = this.mirror();
    const nics = [...new Set([flow.source.secId, flow.service.secId])].map((id) => this.links.nicFor(id));
    const commands: string[] = [];
    for (let attempt = 1; ; attempt++) {
      if (!mirror?.readyNow) throw new NotReady(`spp_mirror ${flow.mirrorSecId} is not ready`);
      for (const n of nics) if (!n.worker.ready) throw new NotReady(`spp_vf ${n.layout.secId} is not ready: ${n.worker.notReadyReason ?? 'unknown'}`);
      const statuses = new Map(await Promise.all(nics.map(async (n) => [n.layout.secId, await n.worker.exclusive(() => n.worker.currentStatus())] as const)));
      const plan = tapKind.plan(flow, want, { vf: (id) => statuses.get(id), mirror: await mirror.currentStatus() });
      try {
        await this.execute(plan, commands);
        this.onCommands(flow.flowId, commands);
        return commands;
      } catch (err) {
        this.onCommands(flow.flowId, commands);
        if (err instanceof AgentStopping) throw err;
        const failure = sppCtlFailure(err);
        const onMirror = isMirrorCommand((err as { cmd: ProcessCommand }).cmd);
        if (!isRejected(err)) {
          if (onMirror) mirror.resyncNeeded(failure.message);
          else nics.find((n) => n.layout.secId === (err as { cmd: ProcessCommand }).cmd.secId)?.actor.send({ type: 'RESYNC_NEEDED', reason: failure.message });
          throw err;
        }
        if (attempt >= 2) throw new PermanentError(`spp-ctl rejected the tap plan even after re-reading the statuses: ${failure.message}`);
        rt.log.warn('spp-ctl rejected a tap command; re-reading the statuses to plan a repair', { tapFlow: flow.flowId, error: failure.message });
        await mirror.refresh();
        for (const n of nics) await n.worker.exclusive(() => n.worker.refresh());
      }
    }
  }

  /** Runs the steps as their dependencies allow; stops launching at the first failure and throws it once the steps in flight end. */
  private async execute(steps: readonly TapStep[], commands: string[]): Promise<void> {
    const done = new Set<string>();
    const started = new Set<string>();
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    while (done.size < steps.length && failure === undefined) {
      for (const step of readySteps(steps, done, started)) {
        started.add(step.id);
        const run: Promise<void> = this.send(step.cmd).then(
          (text) => {
            commands.push(text);
            done.add(step.id);
          },
          (err) => {
            failure ??= Object.assign(err as object, { cmd: step.cmd });
          },
        );
        inFlight.add(run);
        void run.finally(() => inFlight.delete(run));
      }
      if (inFlight.size === 0) break;
      await Promise.race(inFlight);
    }
    await Promise.allSettled([...inFlight]);
    if (failure !== undefined) throw failure;
    if (done.size < steps.length) throw new Error('tap plan: a step waits for one that never ran');
  }

  private async send(cmd: ProcessCommand): Promise<string> {
    if (isMirrorCommand(cmd)) {
      const mirror = this.mirror();
      if (!mirror) throw new NotReady('no spp_mirror');
      return mirror.execute(cmd);
    }
    const { worker } = this.links.nicFor(cmd.secId);
    return worker.exclusive(async () => (await worker.execute([cmd])).commands[0]!);
  }
}
