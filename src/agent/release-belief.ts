/**
 * What the agent believes of the SPP release behind each spp_vf, and the one
 * thing it changes: the spelling of the classifier's component type
 * (`classifier_mac` until 18.08.3, `classifier` from 18.08.4 on). Learned with
 * no flag, from what spp-ctl shows (upstream-final.md section 3, "What a
 * version-tolerant agent needs" 1): a classifier in the status gives the
 * spelling; otherwise the start is tried with the spelling last learned on
 * this spp-ctl (first `classifier_mac`), and on 500 or 400 `invalid key(type)`
 * once with the other. spp-ctl refuses the type before anything reaches
 * spp_vf, so the refused try changes nothing.
 */
import type { MirrorCommand, SppCommand } from '../sppctl/commands';
import { type ClassifierType, familyFromStatus, isClassifierType, otherClassifierType, parseSppVfError, type ReleaseFamily } from '../sppctl/releases';
import type { MirrorStatus, ProcessEntry, VfStatus } from '../sppctl/wire';
import { type SppCtlApi, sppCtlFailure } from './io';

/** What a belief rests on, as a bounded set (a metric label). */
export type ReleaseBasis = 'none' | 'status' | 'start-accepted' | 'start-fallback' | 'error-text';

export interface ReleaseBelief {
  readonly family: ReleaseFamily;
  readonly basis: ReleaseBasis;
  /** Why, in words: what the agent saw. */
  readonly reason: string;
  /** The classifier spelling this vf accepts, once known. */
  readonly classifierType?: ClassifierType;
}

export const UNKNOWN_RELEASE: ReleaseBelief = { family: 'unknown', basis: 'none', reason: 'no status read yet' };

/** A start refused for its type value: the 500 of spp-ctl's KeyInvalid bug, or its intended 400. */
function refusedType(err: unknown): boolean {
  const f = sppCtlFailure(err);
  return f.status === 500 || (f.status === 400 && /invalid key\(type\)/.test(f.message));
}

export class ReleaseAwareSppCtl implements SppCtlApi {
  private readonly beliefs = new Map<number, ReleaseBelief>();
  /** Vfs whose last status read told the spelling: it is certain, and a refusal is something else. */
  private readonly certain = new Set<number>();
  /** The spelling last learned from any vf of this spp-ctl: the first guess for the others. */
  private guess: ClassifierType = 'classifier_mac';

  constructor(
    private readonly inner: SppCtlApi,
    /** Called when a vf's belief changes (logging, metrics, the page's live update). */
    private readonly onChange: (secId: number, belief: ReleaseBelief, previous: ReleaseBelief) => void = () => {},
  ) {}

  belief(secId: number): ReleaseBelief {
    return this.beliefs.get(secId) ?? UNKNOWN_RELEASE;
  }

  /** The command as it will first be sent: a classifier start in the spelling believed (what the logs should say). */
  spell(cmd: SppCommand): SppCommand {
    if (cmd.op !== 'component_start' || !isClassifierType(cmd.type)) return cmd;
    const type = this.beliefs.get(cmd.secId)?.classifierType ?? this.guess;
    return type === cmd.type ? cmd : { ...cmd, type };
  }

  processes(): Promise<ProcessEntry[]> {
    return this.inner.processes();
  }

  /** spp_mirror has no classifier: nothing to learn from it. */
  mirrorStatus(secId: number): Promise<MirrorStatus> {
    return this.inner.mirrorStatus(secId);
  }

  sendMirror(cmd: MirrorCommand): Promise<void> {
    return this.inner.sendMirror(cmd);
  }

  async vfStatus(secId: number): Promise<VfStatus> {
    const status = await this.inner.vfStatus(secId);
    this.fromStatus(secId, status);
    return status;
  }

  async send(cmd: SppCommand): Promise<void> {
    if (cmd.op !== 'component_start' || !isClassifierType(cmd.type)) {
      try {
        await this.inner.send(cmd);
      } catch (err) {
        this.fromError(cmd.secId, err);
        throw err;
      }
      return;
    }
    const believed = this.beliefs.get(cmd.secId)?.classifierType;
    const certain = this.certain.has(cmd.secId);
    const first = believed ?? this.guess;
    try {
      await this.inner.send({ ...cmd, type: first });
      if (!certain) this.learnType(cmd.secId, first, 'start-accepted', `spp-ctl accepted a component of type ${first}`);
      return;
    } catch (err) {
      // a spelling seen in this vf's status is certain: the failure is something else. One learned
      // otherwise may be out of date (SPP upgraded under a running agent): the other is tried.
      if (certain || !refusedType(err)) throw err;
      const other = otherClassifierType(first);
      try {
        await this.inner.send({ ...cmd, type: other });
      } catch {
        throw err;
      }
      this.learnType(cmd.secId, other, 'start-fallback', `spp-ctl refused the type ${first} (${sppCtlFailure(err).status}) and accepted ${other}`);
    }
  }

  private set(secId: number, next: ReleaseBelief): void {
    const previous = this.belief(secId);
    if (next.classifierType) this.guess = next.classifierType;
    if (previous.family === next.family && previous.basis === next.basis && previous.reason === next.reason && previous.classifierType === next.classifierType)
      return;
    this.beliefs.set(secId, next);
    this.onChange(secId, next, previous);
  }

  private fromStatus(secId: number, status: VfStatus): void {
    const seen = familyFromStatus(status);
    // a classifier in the status, or no master-lcore (18.08.2 or older: classifier_mac)
    if (seen.classifierType) this.certain.add(secId);
    else this.certain.delete(secId);
    const previous = this.belief(secId);
    // master-lcore without a classifier says less than a type spp-ctl accepted before (e.g. after a restart)
    if (seen.family === '>=18.08.3' && previous.classifierType) {
      if (previous.family === '18.08.3' || previous.family === '>=18.08.4') return;
      this.set(secId, withType(previous.basis, `${seen.reason}; spp-ctl accepted the type ${previous.classifierType}`, true, previous.classifierType));
      return;
    }
    this.set(secId, { family: seen.family, basis: 'status', reason: seen.reason, ...(seen.classifierType ? { classifierType: seen.classifierType } : {}) });
  }

  private learnType(secId: number, type: ClassifierType, basis: ReleaseBasis, why: string): void {
    const previous = this.belief(secId);
    const masterLcore = previous.family === '<=18.08.2' ? false : previous.family === '>=18.08.3' || previous.family === '18.08.3' ? true : undefined;
    this.set(secId, withType(basis, why, masterLcore, type));
  }

  /** An error text in 18.08.3's words says the release is at least 18.08.3. */
  private fromError(secId: number, err: unknown): void {
    const body = (err as { body?: unknown } | undefined)?.body;
    if (typeof body !== 'string') return;
    const parsed = parseSppVfError(body);
    const previous = this.belief(secId);
    if (!parsed || !('style' in parsed) || parsed.style !== 'invalid-value') return;
    const reason = `spp_vf answered in 18.08.3's words (${parsed.kind})`;
    if (previous.family === 'unknown') this.set(secId, { family: '>=18.08.3', basis: 'error-text', reason });
    // classifier_mac accepted, and 18.08.3's words: exactly 18.08.3
    else if (previous.family === '<=18.08.3' && previous.classifierType)
      this.set(secId, withType('error-text', `${previous.reason}; ${reason}`, true, previous.classifierType));
  }
}

/** The belief from a learned spelling and whether the status had master-lcore (undefined: not read). */
function withType(basis: ReleaseBasis, reason: string, masterLcore: boolean | undefined, type: ClassifierType): ReleaseBelief {
  if (type === 'classifier') return { family: '>=18.08.4', basis, reason, classifierType: type };
  if (masterLcore === true) return { family: '18.08.3', basis, reason: `${reason}; the status has master-lcore`, classifierType: type };
  if (masterLcore === false) return { family: '<=18.08.2', basis, reason: `${reason}; the status has no master-lcore`, classifierType: type };
  return { family: '<=18.08.3', basis, reason, classifierType: type };
}
