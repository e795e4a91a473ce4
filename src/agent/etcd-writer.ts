/** The agent's etcd writes over etcd3. */
import type { Etcd3 } from 'etcd3';
import { FREE_VHOST } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import type { EtcdWriter, PortStatusWrite } from './io';
import { describeUser, isRefusal } from '../etcd/refusal';

/**
 * Test hook (docs/reliability.md): SPP_TEST_EXIT_AFTER_ETCD_WRITES=k kills
 * the process with SIGKILL right after its k-th acknowledged write, so the
 * crash-point tests can stop the agent between any two of its etcd writes.
 */
export function testExitAfterWrites(env: NodeJS.ProcessEnv): { afterWrite?: () => void } {
  const raw = env['SPP_TEST_EXIT_AFTER_ETCD_WRITES'];
  if (raw === undefined || raw === '') return {};
  const k = Number(raw);
  if (!Number.isInteger(k) || k < 1) throw new Error(`SPP_TEST_EXIT_AFTER_ETCD_WRITES: expected an integer >= 1, got ${JSON.stringify(raw)}`);
  let writes = 0;
  return {
    afterWrite: () => {
      writes += 1;
      if (writes >= k) process.kill(process.pid, 'SIGKILL');
    },
  };
}

export class Etcd3Writer implements EtcdWriter {
  constructor(
    private readonly client: Etcd3,
    private readonly hooks: { afterWrite?: () => void } = {},
    /** The etcd user, for the message of a refused write. */
    private readonly user?: string,
  ) {}

  /** A refused write names its key and the user (etcd's own message names neither); it is retried like any failure. */
  private async refusedNamed<T>(key: string, write: Promise<T>): Promise<T> {
    try {
      return await write;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      throw new Error(`etcd refused ${describeUser(this.user)} the write of ${key}: ${(err as Error).message}`);
    }
  }

  /** Counts a write etcd acknowledged (a transaction whose condition held). */
  private acked(succeeded: boolean): boolean {
    if (succeeded) this.hooks.afterWrite?.();
    return succeeded;
  }

  async putPortStatus(w: PortStatusWrite): Promise<boolean> {
    const action = keys.action(w.host, w.portId);
    const cond = w.whileAction === 'plug' ? this.client.if(action, 'Value', '==', 'plug') : this.client.if(action, 'Create', '>', 0);
    const key = keys.portStatus(w.host, w.portId);
    const res = await this.refusedNamed(key, cond.then(this.client.put(key).value(w.value)).commit());
    return this.acked(res.succeeded);
  }

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean> {
    const action = keys.action(host, portId);
    const deletes = (): Array<ReturnType<Etcd3['delete']>> => [
      this.client.delete().key(keys.bindPort(host, portId)),
      this.client.delete().key(action),
      this.client.delete().key(keys.portStatus(host, portId)),
    ];
    // Only while the action is still unplug: a driver that flipped it back to
    // plug meanwhile keeps its keys, and the port is plugged again.
    if (vhostKey !== undefined) {
      const res = await this.refusedNamed(
        `${vhostKey} and the keys of port ${portId}`,
        this.client.if(action, 'Value', '==', 'unplug').and(vhostKey, 'Value', '==', portId).then(this.client.put(vhostKey).value(FREE_VHOST), ...deletes()).commit(),
      );
      if (res.succeeded) return this.acked(true);
    }
    // The vhost is not (or no longer) this port's: leave it, remove the port's keys.
    const res = await this.refusedNamed(`the keys of port ${portId}`, this.client.if(action, 'Value', '==', 'unplug').then(...deletes()).commit());
    return this.acked(res.succeeded);
  }
}
