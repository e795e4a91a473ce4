/** The agent's etcd writes (src/agent/etcd-writes.ts) over etcd3. */
import type { ComparatorBuilder, Etcd3 } from 'etcd3';
import { type AgentWriteSpec, type Condition, SpecWriter, type Transaction } from '../agent/etcd-writes';
import type { StoredValue } from '../etcd/events';
import { describeUser, isRefusal } from '../etcd/refusal';

/**
 * Test hook (docs/reliability.md): SPP_TEST_EXIT_AFTER_ETCD_WRITES=k kills
 * the process with SIGKILL right after its k-th acknowledged write, so the
 * crash-point tests can stop the agent between any two of its etcd writes.
 */
export function testExitAfterWrites(env: NodeJS.ProcessEnv): { afterWrite?: () => void } {
  const raw = env.SPP_TEST_EXIT_AFTER_ETCD_WRITES;
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

export class Etcd3Writer extends SpecWriter {
  constructor(
    private readonly client: Etcd3,
    private readonly hooks: { afterWrite?: () => void; onRefused?: (reason: string) => void; onAccepted?: () => void } = {},
    /** The etcd user, for the message of a refused write. */
    private readonly user?: string,
  ) {
    super();
  }

  /** A refused write names its key and the user (etcd's own message names neither); it is retried like any failure. */
  private async refusedNamed<T>(key: string, write: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await write;
    } catch (err) {
      if (!isRefusal(err)) throw err;
      const reason = `etcd refused ${describeUser(this.user)} the write of ${key}: ${(err as Error).message}`;
      this.hooks.onRefused?.(reason);
      throw new Error(reason);
    }
    this.hooks.onAccepted?.();
    return result;
  }

  /** Counts a write etcd acknowledged (a transaction whose condition held). */
  private acked(succeeded: boolean): boolean {
    if (succeeded) this.hooks.afterWrite?.();
    return succeeded;
  }

  async readBefore(key: string, revision: number): Promise<StoredValue | undefined> {
    const res = await this.client
      .get(key)
      .revision(revision - 1)
      .exec();
    const kv = res.kvs[0];
    return kv ? { value: kv.value.toString(), modRevision: Number(kv.mod_revision) } : undefined;
  }

  protected async commit(spec: AgentWriteSpec): Promise<boolean> {
    for (const txn of spec.transactions) {
      const res = await this.refusedNamed(txn.refused, this.transaction(txn).commit());
      if (res.succeeded) return this.acked(true);
    }
    return false;
  }

  private transaction(txn: Transaction): ReturnType<ComparatorBuilder['then']> {
    const [first, ...more] = txn.when;
    let cond = this.compare(this.client.if.bind(this.client), first);
    for (const c of more) cond = this.compare(cond.and.bind(cond), c);
    return cond.then(...txn.writes.map((op) => (op.type === 'put' ? this.client.put(op.key).value(op.value) : this.client.delete().key(op.key))));
  }

  private compare(
    add: (key: string, column: 'Value' | 'Create', cmp: '==' | '>', value: string | number) => ComparatorBuilder,
    c: Condition,
  ): ComparatorBuilder {
    return c.is === 'equal' ? add(c.key, 'Value', '==', c.value) : add(c.key, 'Create', '>', 0);
  }
}
