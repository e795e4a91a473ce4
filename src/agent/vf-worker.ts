/**
 * One spp_vf as the agent drives it: a serial command queue (spp-ctl
 * serialises per vf anyway, and plans must see each other's results), the
 * cached status kept current from command results, and the ready gate the
 * NIC machine opens once the layout is built.
 */
import type { SppCommand } from '../sppctl/commands';
import { describeCommand } from '../sppctl/commands';
import type { VfStatus } from '../sppctl/wire';
import { applyCommand } from '../plan/observed';
import type { SppCtlApi } from './ports';

export interface Executed {
  /** Commands that succeeded, in spp_vf text form. */
  readonly commands: string[];
}

export class VfWorker {
  private tail: Promise<unknown> = Promise.resolve();
  /**
   * The last status known, kept when the cache is dropped: what "changed" is
   * measured against. Commands that succeeded since are in `applied`, folded
   * in (applyCommand) only when someone reads the status: a NIC build sends
   * dozens of commands and then reads the vf again, and copying the status
   * after each of them was quadratic work that the re-read threw away.
   */
  private known: VfStatus | undefined;
  private applied: SppCommand[] = [];
  /** Whether `known` (with `applied`) is a current copy of the vf. */
  private cacheValid = false;
  private readyState: { ready: true } | { ready: false; reason: string } = { ready: false, reason: 'layout not built yet' };

  constructor(
    readonly secId: number,
    private readonly sppctl: SppCtlApi,
    /** Called for every command before it is sent (logging, recording), with its text form. */
    private readonly onCommand: (cmd: SppCommand, text: string) => void = () => {},
  ) {}

  get ready(): boolean {
    return this.readyState.ready;
  }

  get notReadyReason(): string | undefined {
    return this.readyState.ready ? undefined : this.readyState.reason;
  }

  setReady(ready: boolean, reason = ''): void {
    this.readyState = ready ? { ready: true } : { ready: false, reason };
    if (!ready) this.cacheValid = false;
  }

  /** The last status read or derived, even after the cache was dropped as unsure (no I/O). */
  get lastKnown(): VfStatus | undefined {
    return this.derived();
  }

  /** The last known status, if any (no I/O). */
  get status(): VfStatus | undefined {
    return this.cacheValid ? this.derived() : undefined;
  }

  private derived(): VfStatus | undefined {
    if (this.applied.length > 0) {
      let status = this.known;
      for (const cmd of this.applied) if (status !== undefined) status = applyCommand(status, cmd);
      this.known = status;
      this.applied = [];
    }
    return this.known;
  }

  /** Runs `task` after every task queued before it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task, task);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The status, read from spp-ctl only when no current copy is held. */
  async currentStatus(): Promise<VfStatus> {
    if (!this.cacheValid) {
      const read = await this.sppctl.vfStatus(this.secId);
      this.known = read;
      this.applied = [];
      this.cacheValid = true;
    }
    return this.derived()!;
  }

  async refresh(): Promise<VfStatus> {
    this.cacheValid = false;
    return this.currentStatus();
  }

  /** Sends commands in order, stopping at the first failure; the cache follows every success. */
  async execute(cmds: readonly SppCommand[]): Promise<Executed> {
    const done: string[] = [];
    for (const cmd of cmds) {
      // described once: the log, the replay's command list and the result share it
      const text = describeCommand(cmd);
      this.onCommand(cmd, text);
      try {
        await this.sppctl.send(cmd);
      } catch (err) {
        // what spp_vf holds now is unknown: read it again before the next plan
        this.cacheValid = false;
        (err as { executed?: string[] }).executed = done;
        throw err;
      }
      done.push(text);
      if (this.cacheValid) this.applied.push(cmd);
    }
    return { commands: done };
  }
}
