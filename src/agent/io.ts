/**
 * The I/O the agent's core needs, as interfaces: the daemon plugs in etcd3
 * and the HTTP spp-ctl client, the replay tool an in-memory key space and
 * the in-process emulator.
 */
import type { StoredValue } from '../etcd/events';
import type { MirrorCommand, SppCommand } from '../sppctl/commands';
import type { MirrorStatus, ProcessEntry, VfStatus } from '../sppctl/wire';

export interface SppCtlApi {
  processes(): Promise<ProcessEntry[]>;
  vfStatus(secId: number): Promise<VfStatus>;
  send(cmd: SppCommand): Promise<void>;
  /** GET /v1/mirrors/<id> (TaaS). */
  mirrorStatus(secId: number): Promise<MirrorStatus>;
  sendMirror(cmd: MirrorCommand): Promise<void>;
}

export interface PortStatusWrite {
  readonly host: string;
  readonly portId: string;
  readonly value: string;
  /** Only write while the action key holds this value ('plug'), or exists at all ('any'). */
  readonly whileAction: 'plug' | 'any';
}

/** tap_status <- value, while tap_action is plug ('plug') or exists at all ('any'). */
export interface TapStatusWrite {
  readonly host: string;
  readonly flowId: string;
  readonly value: string;
  readonly whileAction: 'plug' | 'any';
}

/**
 * A tap flow's clean-up (upstream's unplug: mirror/<host>/<k> = None for its
 * mirrors, tap_info, tap_action, tap_status deleted), in one transaction
 * while tap_action still holds `action`; `mirrors` are put back to None only
 * while they still hold the value given (the flow's id, or None).
 */
export interface TapCleanup {
  readonly host: string;
  readonly flowId: string;
  readonly action: string;
  readonly mirrors: readonly { readonly key: string; readonly value: string }[];
}

export interface EtcdWriter {
  /** Conditional put of tap_status; false when the condition did not hold. */
  putTapStatus(w: TapStatusWrite): Promise<boolean>;
  /** The tap flow's clean-up; false when tap_action changed meanwhile (nothing written). */
  cleanupTap(w: TapCleanup): Promise<boolean>;
  /** Conditional put of port_status; false when the condition did not hold (nothing written). */
  putPortStatus(w: PortStatusWrite): Promise<boolean>;
  /**
   * The unplug cleanup, in ONE transaction, while the action is still
   * `unplug`: the vhost key back to `None` (it must name the port) and the
   * port's bind_port, action and port_status keys deleted. False when the
   * action changed meanwhile (nothing was written).
   */
  cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean>;
  /**
   * The key as it was just before `revision` (its previous put; undefined
   * when it did not exist then). Throws when etcd no longer has that
   * revision (compacted). Absent: the history cannot be read, so a restart
   * re-asserts every `up` it finds (docs/protocol.md).
   */
  readBefore?(key: string, revision: number): Promise<StoredValue | undefined>;
}

/** What an spp-ctl failure means for the caller (duck-typed, so any client's errors fit). */
export interface SppCtlFailure {
  /** HTTP status; undefined when spp-ctl did not answer. */
  readonly status?: number;
  readonly message: string;
}

export function sppCtlFailure(err: unknown): SppCtlFailure {
  const e = err as { status?: unknown; message?: unknown };
  return { ...(typeof e?.status === 'number' ? { status: e.status } : {}), message: String(e?.message ?? err) };
}

/** 400 from spp-ctl: spp_vf rejected the command (`command error: ...`), so our view of it was wrong. */
export function isRejected(err: unknown): boolean {
  return sppCtlFailure(err).status === 400;
}
