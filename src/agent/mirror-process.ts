/**
 * The host's spp_mirror as the agent drives it (TaaS): its cached status,
 * kept current from command results as a vf's is, one command at a time,
 * and its lifecycle, which is the NIC machine's (wait until spp-ctl lists
 * the process, build what is missing, resync periodically and after a
 * failure) with mirror actors: start-up creates the configuration's
 * `mirror_<i>` components with no ports, as the final Python agent does.
 */
import { type Actor, createActor, fromPromise } from 'xstate';
import { type NicRunInput, type NicRunOutput, nicMachine } from '../../machines/nic';
import { stateName } from '../../machines/state-name';
import { mirrorComponentName } from '../plan/tap-desired';
import { applyMirrorCommand, planMirrorComponents } from '../plan/tap-plan';
import type { MirrorDecl } from '../protocol/configuration';
import { describeMirrorCommand, type MirrorCommand } from '../sppctl/commands';
import type { MirrorStatus } from '../sppctl/wire';
import type { HostRuntime } from './host-runtime';
import { sppCtlFailure } from './io';
import { processTimers, routineResync } from './process-watch';

/** The MirrorProcess that started the machine, from the owner its actors and actions are given (as nic-lifecycle.ts). */
function mirrorOf(input: NicRunInput): MirrorProcess {
  if (input.owner instanceof MirrorProcess) return input.owner;
  throw new Error('mirror machine: started without its host (input.owner is not a MirrorProcess)');
}

/** The NIC machine with the spp_mirror's actors, provided once per process. */
const providedMirrorMachine = nicMachine.provide({
  actors: {
    waitForVf: fromPromise<void, NicRunInput>(async ({ input }) => mirrorOf(input).waitListed()),
    build: fromPromise<NicRunOutput, NicRunInput>(async ({ input }) => mirrorOf(input).buildAndNote()),
  },
  actions: {
    announceReady: (_, params) => mirrorOf(params).announce(true),
    announceNotReady: (_, params) => mirrorOf(params).announce(false),
  },
});

export class MirrorProcess {
  private cached: MirrorStatus | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** A build since the last announcement had to make components again (the spp_mirror restarted). */
  private changed = false;
  readyNow = false;
  readonly actor: Actor<typeof nicMachine>;

  constructor(
    private readonly rt: HostRuntime,
    readonly secId: number,
    readonly mirrors: readonly MirrorDecl[],
    /** Called once the mirror is usable again; `changed`: its components had to be made again (it restarted). */
    private readonly onReady: (ready: boolean, changed: boolean) => void,
    private readonly onState: () => void,
  ) {
    this.actor = createActor(providedMirrorMachine, {
      input: {
        secId,
        owner: this,
        ...processTimers(rt),
      },
      ...rt.actorOptions,
    });
    let last = '';
    const isRoutine = routineResync();
    this.actor.subscribe((snap) => {
      const state = stateName(snap.value);
      if (state === last) return;
      last = state;
      rt.observer.mirrorState?.(secId, state);
      const fields = { secId, process: 'spp_mirror', state, lastError: snap.context.lastError, commands: snap.context.lastCommands.length };
      const routine = isRoutine(snap);
      if (snap.hasTag('retrying')) rt.log.warn('spp_mirror not usable yet', fields);
      else rt.log.log(routine ? 'debug' : 'info', 'mirror state', fields);
      rt.notify({});
      this.onState();
    });
  }

  start(): void {
    this.actor.start();
  }

  stop(): void {
    this.actor.send({ type: 'STOP' });
    this.actor.stop();
  }

  /** The last status known (no I/O). */
  get status(): MirrorStatus | undefined {
    return this.cached;
  }

  async currentStatus(): Promise<MirrorStatus> {
    this.cached ??= await this.rt.sppctl.mirrorStatus(this.secId);
    return this.cached;
  }

  async refresh(): Promise<MirrorStatus> {
    this.cached = undefined;
    return this.currentStatus();
  }

  /** A command to find out that the mirror restarted under us: read it again, rebuild. */
  resyncNeeded(reason: string): void {
    this.cached = undefined;
    this.actor.send({ type: 'RESYNC_NEEDED', reason });
  }

  /** One command, after those queued before it; the cache follows its success. */
  execute(cmd: MirrorCommand): Promise<string> {
    const run = this.chain.then(async () => {
      const text = describeMirrorCommand(cmd);
      this.rt.log.info('spp-ctl command', { secId: cmd.secId, command: text });
      this.rt.opts.onCommand?.(cmd, text);
      try {
        await this.rt.sppctl.sendMirror(cmd);
      } catch (err) {
        this.cached = undefined;
        throw err;
      }
      if (this.cached) this.cached = applyMirrorCommand(this.cached, cmd);
      return text;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** For the provided machine (its build actor). */
  async buildAndNote(): Promise<NicRunOutput> {
    const out = await this.build();
    this.changed = this.changed || out.changed;
    return out;
  }

  /** For the provided machine (its announce actions). */
  announce(ready: boolean): void {
    this.readyNow = ready;
    if (!ready) this.cached = undefined;
    this.onReady(ready, ready && this.changed);
    if (ready) this.changed = false;
  }

  /** For the provided machine (its waitForVf actor): spp-ctl lists the process. */
  async waitListed(): Promise<void> {
    const processes = await this.rt.sppctl.processes();
    if (!processes.some((p) => p.type === 'mirror' && p['client-id'] === this.secId)) {
      const listed = processes.map((p) => ('client-id' in p ? `${p.type}:${p['client-id']}` : p.type)).join(', ') || 'nothing';
      throw new Error(`spp_mirror ${this.secId} is not connected to spp-ctl; GET /v1/processes lists ${listed}`);
    }
  }

  private async build(): Promise<NicRunOutput & { changed: boolean }> {
    const before = this.cached;
    const status = await this.refresh().catch((err) => {
      throw new Error(`cannot read the status of spp_mirror ${this.secId}: ${sppCtlFailure(err).message}`);
    });
    const plan = planMirrorComponents(this.secId, this.mirrors, status, mirrorComponentName);
    const commands: string[] = [];
    for (const cmd of plan) commands.push(await this.execute(cmd));
    const changed = plan.length > 0 || (before !== undefined && JSON.stringify(before.components) !== JSON.stringify(status.components));
    return { commands, changed };
  }
}
