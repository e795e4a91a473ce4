/**
 * The agent's etcd writes, as data: each is a list of transactions tried in
 * order (the first whose conditions hold is committed). Two interpreters run
 * them: src/daemon/etcd-writer.ts over etcd3, and the replay's key space
 * (src/replay/keyspace.ts), so the conditions are written once.
 */
import { FREE_VHOST } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import type { EtcdWriter, PortStatusWrite, TapCleanup, TapStatusWrite } from './io';

export type Condition = { readonly key: string; readonly is: 'equal'; readonly value: string } | { readonly key: string; readonly is: 'present' };

export type WriteOp = { readonly type: 'put'; readonly key: string; readonly value: string } | { readonly type: 'delete'; readonly key: string };

export interface Transaction {
  /** All must hold (etcd: compare); the first names the action key, whose value explains a write not made. */
  readonly when: readonly [Condition, ...Condition[]];
  readonly writes: readonly WriteOp[];
  /** What a refused write names (etcd's own message names neither key nor user). */
  readonly refused: string;
}

export interface AgentWriteSpec {
  /** Tried in order: the first whose conditions hold is committed; none: nothing is written. */
  readonly transactions: readonly Transaction[];
  /** How the replay names the write (`port_status "up"`, `unplug cleanup of P`). */
  readonly label: string;
  /** The replay's line for a committed write lists its ops after the label (false: the ops alone). */
  readonly labelled: boolean;
}

/** port_status <- value, while the action is plug ('plug') or exists at all ('any'). */
export function portStatusWrite(w: PortStatusWrite): AgentWriteSpec {
  const action = keys.action(w.host, w.portId);
  const key = keys.portStatus(w.host, w.portId);
  const when: Condition = w.whileAction === 'plug' ? { key: action, is: 'equal', value: 'plug' } : { key: action, is: 'present' };
  return {
    transactions: [{ when: [when], writes: [{ type: 'put', key, value: w.value }], refused: key }],
    label: `port_status ${JSON.stringify(w.value)}`,
    labelled: false,
  };
}

/**
 * The unplug cleanup, in ONE transaction, while the action is still
 * `unplug` (a driver that flipped it back to plug meanwhile keeps its keys):
 * the vhost key back to free if it names the port, and the port's keys
 * deleted. A vhost that is not (or no longer) the port's is left alone.
 */
export function cleanupWrite(host: string, portId: string, vhostKey: string | undefined): AgentWriteSpec {
  const action = keys.action(host, portId);
  const stillUnplug: Condition = { key: action, is: 'equal', value: 'unplug' };
  const deletes: WriteOp[] = [keys.bindPort(host, portId), action, keys.portStatus(host, portId)].map((key) => ({ type: 'delete', key }));
  const keysOnly: Transaction = { when: [stillUnplug], writes: deletes, refused: `the keys of port ${portId}` };
  const withVhost: Transaction | undefined =
    vhostKey === undefined
      ? undefined
      : {
          when: [stillUnplug, { key: vhostKey, is: 'equal', value: portId }],
          writes: [{ type: 'put', key: vhostKey, value: FREE_VHOST }, ...deletes],
          refused: `${vhostKey} and the keys of port ${portId}`,
        };
  return { transactions: withVhost ? [withVhost, keysOnly] : [keysOnly], label: `unplug cleanup of ${portId}`, labelled: true };
}

/** tap_status <- value, while tap_action is plug ('plug') or exists ('any'). */
export function tapStatusWrite(w: TapStatusWrite): AgentWriteSpec {
  const action = keys.tapAction(w.host, w.flowId);
  const key = keys.tapStatus(w.host, w.flowId);
  const when: Condition = w.whileAction === 'plug' ? { key: action, is: 'equal', value: 'plug' } : { key: action, is: 'present' };
  return {
    transactions: [{ when: [when], writes: [{ type: 'put', key, value: w.value }], refused: key }],
    label: `tap_status ${JSON.stringify(w.value)}`,
    labelled: false,
  };
}

/**
 * The tap flow's clean-up as upstream's unplug writes it (its mirrors back to
 * None, then tap_info, tap_action, tap_status deleted), in ONE transaction
 * while tap_action is still what the agent acted on. A mirror key that no
 * longer holds what the agent saw (another flow claimed it) is left alone.
 */
export function tapCleanupWrite(c: TapCleanup): AgentWriteSpec {
  const action = keys.tapAction(c.host, c.flowId);
  const still: Condition = { key: action, is: 'equal', value: c.action };
  const deletes: WriteOp[] = [keys.tapInfo(c.host, c.flowId), action, keys.tapStatus(c.host, c.flowId)].map((key) => ({ type: 'delete', key }));
  const keysOnly: Transaction = { when: [still], writes: deletes, refused: `the keys of tap flow ${c.flowId}` };
  const withMirrors: Transaction | undefined =
    c.mirrors.length === 0
      ? undefined
      : {
          when: [still, ...c.mirrors.map((m): Condition => ({ key: m.key, is: 'equal', value: m.value }))],
          writes: [...c.mirrors.map((m): WriteOp => ({ type: 'put', key: m.key, value: FREE_VHOST })), ...deletes],
          refused: `${c.mirrors.map((m) => m.key).join(', ')} and the keys of tap flow ${c.flowId}`,
        };
  return { transactions: withMirrors ? [withMirrors, keysOnly] : [keysOnly], label: `tap clean-up of ${c.flowId}`, labelled: true };
}

/**
 * The agent's writes as data, each handed to one interpreter of a spec: the
 * daemon's etcd3 writer (src/daemon/etcd-writer.ts) and the replay's key
 * space (src/replay/keyspace.ts) differ only in `commit`.
 */
export abstract class SpecWriter implements EtcdWriter {
  /** The first transaction of `spec` whose conditions hold, committed; false when none held. */
  protected abstract commit(spec: AgentWriteSpec): Promise<boolean> | boolean;

  async putPortStatus(w: PortStatusWrite): Promise<boolean> {
    return this.commit(portStatusWrite(w));
  }

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean> {
    return this.commit(cleanupWrite(host, portId, vhostKey));
  }

  async putTapStatus(w: TapStatusWrite): Promise<boolean> {
    return this.commit(tapStatusWrite(w));
  }

  async cleanupTap(c: TapCleanup): Promise<boolean> {
    return this.commit(tapCleanupWrite(c));
  }
}
