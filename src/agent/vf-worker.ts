/**
 * One spp_vf as the agent drives it: a serial queue of tasks (spp-ctl
 * serialises per vf anyway, and plans must see each other's results), the
 * cached status kept current from command results, and the ready gate the
 * NIC machine opens once the layout is built.
 *
 * The queue holds whole plans, not single commands: a plan is made from the
 * status the plans before it left, when it starts, so interleaving commands
 * of two plans would make each of them later without making any earlier.
 * Among waiting plans, the one that needs the fewest commands goes first (a
 * port that needs 1 command does not wait behind another port's 5), but a
 * plan is passed at most once: no port waits longer than arrival order plus
 * one other port's plan.
 */

import { applyCommand } from '../plan/observed';
import type { SppCommand } from '../sppctl/commands';
import { describeCommand } from '../sppctl/commands';
import type { VfStatus } from '../sppctl/wire';
import type { SppCtlApi } from './io';

export interface Executed {
  /** Commands that succeeded, in spp_vf text form. */
  readonly commands: string[];
}

/** What a sequence of commands did: the commands that succeeded, and the failure that stopped it, if one did. */
export type Attempted = (Executed & { readonly failed: false }) | (Executed & { readonly failed: true; readonly failure: unknown });

/** How far past the oldest waiting task the queue looks for a shorter one. */
const LOOKAHEAD = 32;

interface Waiting {
  /** Commands the task would send if it started now; undefined: unknown, or a task that keeps its place (a NIC build). */
  readonly size: (() => number | undefined) | undefined;
  readonly start: () => void;
  /** Whether a later task already started before this one. */
  passed: boolean;
}

export class VfWorker {
  private readonly waiting: Waiting[] = [];
  private running = false;
  private pumpQueued = false;
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

  /** Runs `task` alone, after every task queued before it; no later task starts before it. */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.enqueue(undefined, task);
  }

  /**
   * Runs `task` alone, in plan order: `size` says how many commands it would
   * send if it started now (asked while it waits, from the cached status;
   * undefined when that is unknown).
   */
  planned<T>(size: () => number | undefined, task: () => Promise<T>): Promise<T> {
    return this.enqueue(size, task);
  }

  private enqueue<T>(size: Waiting['size'], task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running = true;
        let run: Promise<T>;
        try {
          run = task();
        } catch (err) {
          run = Promise.reject(err);
        }
        run.then(resolve, reject).finally(() => {
          this.running = false;
          this.schedulePump();
        });
      };
      this.waiting.push({ size, start, passed: false });
      // started from a microtask: the ports of one etcd revision all queue before the first pick
      this.schedulePump();
    });
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      if (this.running || this.waiting.length === 0) return;
      const i = this.pick();
      for (let k = 0; k < i; k++) this.waiting[k]!.passed = true;
      this.waiting.splice(i, 1)[0]!.start();
    });
  }

  /** The waiting task to start next (see the class comment). */
  private pick(): number {
    // alone in the queue: it goes first whatever its size (its plan is not made twice)
    if (this.waiting.length === 1) return 0;
    let best = 0;
    let bestSize = Infinity;
    for (let i = 0; i < this.waiting.length && i < LOOKAHEAD; i++) {
      const w = this.waiting[i]!;
      const size = w.size?.();
      // a task of unknown size keeps its place: nothing behind it is looked at
      if (size === undefined) return i === 0 ? 0 : best;
      // the oldest needs at most one command: nothing shorter is worth a look (a burst of flat plugs is planned once per port)
      if (i === 0 && size <= 1) return 0;
      if (size < bestSize) {
        best = i;
        bestSize = size;
      }
      // a task passed once may not be passed again
      if (w.passed) break;
    }
    return best;
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

  /** Sends commands in order, stopping at the first failure, which it throws; the cache follows every success. */
  async execute(cmds: readonly SppCommand[]): Promise<Executed> {
    const run = await this.attempt(cmds);
    if (run.failed) throw run.failure;
    return { commands: run.commands };
  }

  /** As execute, but a failed command is part of the result, with the commands that succeeded before it. */
  async attempt(cmds: readonly SppCommand[]): Promise<Attempted> {
    const done: string[] = [];
    for (const cmd of cmds) {
      // described once: the log, the replay's command list and the result share it
      const text = describeCommand(cmd);
      this.onCommand(cmd, text);
      try {
        await this.sppctl.send(cmd);
      } catch (failure) {
        // what spp_vf holds now is unknown: read it again before the next plan
        this.cacheValid = false;
        return { commands: done, failed: true, failure };
      }
      done.push(text);
      if (this.cacheValid) this.applied.push(cmd);
    }
    return { commands: done, failed: false };
  }
}
