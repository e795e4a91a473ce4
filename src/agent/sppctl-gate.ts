/**
 * The controller's only way to spp-ctl. Closed when the agent stops: from
 * then on no request is sent, and close() resolves once the requests already
 * in flight have their answer (or their timeout, the client's own). Only then
 * may the host lock go: a standby agent that takes it must not meet a
 * command of ours still changing spp_vf.
 */
import type { MirrorCommand, SppCommand } from '../sppctl/commands';
import type { MirrorStatus, ProcessEntry, VfStatus } from '../sppctl/wire';
import type { SppCtlApi } from './io';

/** A request refused because the agent is stopping (never sent). */
export class AgentStopping extends Error {
  constructor(what: string) {
    super(`the agent is stopping: ${what} not sent to spp-ctl`);
    this.name = 'AgentStopping';
  }
}

export class SppCtlGate implements SppCtlApi {
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly inner: SppCtlApi) {}

  processes(): Promise<ProcessEntry[]> {
    return this.pass('GET /v1/processes', () => this.inner.processes());
  }

  vfStatus(secId: number): Promise<VfStatus> {
    return this.pass(`GET /v1/vfs/${secId}`, () => this.inner.vfStatus(secId));
  }

  send(cmd: SppCommand): Promise<void> {
    return this.pass(`${cmd.op} on spp_vf ${cmd.secId}`, () => this.inner.send(cmd));
  }

  mirrorStatus(secId: number): Promise<MirrorStatus> {
    return this.pass(`GET /v1/mirrors/${secId}`, () => this.inner.mirrorStatus(secId));
  }

  sendMirror(cmd: MirrorCommand): Promise<void> {
    return this.pass(`${cmd.op} on spp_mirror ${cmd.secId}`, () => this.inner.sendMirror(cmd));
  }

  private pass<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new AgentStopping(what));
    const p = call();
    this.inFlight.add(p);
    const done = (): void => void this.inFlight.delete(p);
    p.then(done, done);
    return p;
  }

  /** Refuses every later request; resolves with how many were in flight once they have all ended. */
  async close(): Promise<number> {
    this.closed = true;
    const pending = [...this.inFlight];
    await Promise.allSettled(pending);
    return pending.length;
  }
}
