/**
 * What a bind and a restart cost etcd (issue 32 item 2): the agent's writes
 * and their bytes, counted from the bench's watch on the protocol root, and
 * MVCC revisions from etcd's own revision before and after. Each bind waits
 * out the agent's re-assert schedule, so every `up` put of it is counted;
 * the original driver's late watch (created only after its action put) is
 * run on every bind, and a bind it did not see `up` for is counted missed.
 */
import type { Etcd3 } from 'etcd3';
import { keys } from '../../src/protocol/keys';
import type { BenchHost, KeyEvent } from './harness';
import { claimAndBind, newPort, setAction } from './neutron';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function etcdRevision(client: Etcd3): Promise<number> {
  return Number((await client.get('/bench/revision').exec()).header.revision);
}

/** Bytes etcd stores for a put: key and value (what the watch and the next list carry). */
const putBytes = (e: KeyEvent): number => Buffer.byteLength(e.key) + Buffer.byteLength(e.value);

export interface BindWrites {
  /** Per bind: the agent's writes (revisions that are not the driver's claim, bind_port and action). */
  readonly agentWrites: number[];
  /** Per bind: bytes of the agent's puts (key + value). */
  readonly agentBytes: number[];
  /** Per bind: `port_status = up` puts. */
  readonly upPuts: number[];
  /** Per bind: every MVCC revision, the driver's 3 included. */
  readonly revisions: number[];
  /** Binds whose late watcher (the original driver's) saw no `up` within the wait. */
  readonly lateWatchMissed: number;
}

/** The driver's revisions in a bind: the claim (one transaction), bind_port, action. */
const DRIVER_REVISIONS = 3;

/**
 * `runs` binds on the host's first vhost, one at a time, each left `settleMs`
 * after its first `up` (longer than the agent's re-assert schedule), then
 * unbound outside the counted span.
 */
export async function measureBindWrites(host: BenchHost, runs: number, settleMs: number): Promise<BindWrites> {
  const { client, watch } = host.env;
  const slot = host.vhostSlots()[0]!;
  const out = { agentWrites: [] as number[], agentBytes: [] as number[], upPuts: [] as number[], revisions: [] as number[], lateWatchMissed: 0 };
  for (let i = 0; i < runs; i++) {
    const port = newPort(slot.phys, slot.vhostId);
    const statusKey = keys.portStatus(host.host, port.portId);
    const before = await etcdRevision(client);
    const from = watch.events.length;
    await claimAndBind(client, host.host, port);
    await setAction(client, host.host, port.portId, 'plug');
    // the original driver: a watch from "now", created after the action put returned
    const late = await client.watch().key(statusKey).create();
    let lateSaw = false;
    late.on('put', (kv) => {
      if (kv.value.toString() === 'up') lateSaw = true;
    });
    await watch.next((e) => e.type === 'put' && e.key === statusKey && e.value === 'up', `port_status up of ${port.portId}`, 30_000, from);
    await sleep(settleMs);
    await late.cancel();
    if (!lateSaw) out.lateWatchMissed += 1;
    const after = await etcdRevision(client);
    const agents = watch.events.slice(from).filter((e) => e.key === statusKey);
    out.revisions.push(after - before);
    out.agentWrites.push(after - before - DRIVER_REVISIONS);
    out.agentBytes.push(agents.filter((e) => e.type === 'put').reduce((sum, e) => sum + putBytes(e), 0));
    out.upPuts.push(agents.filter((e) => e.type === 'put' && e.value === 'up').length);
    const actionKey = keys.action(host.host, port.portId);
    const gone = watch.next((e) => e.type === 'delete' && e.key === actionKey, `keys of ${port.portId} deleted`);
    await setAction(client, host.host, port.portId, 'unplug');
    await gone;
  }
  watch.clear();
  return out;
}

export interface RestartWrites {
  /** Every MVCC revision from the kill to `settleMs` after all ports were plugged again (the old agent's lease keys expiring included). */
  readonly revisions: number;
  /** Puts under the protocol root in that span (the watch's view), and their bytes. */
  readonly puts: number;
  readonly putBytes: number;
  readonly upPuts: number;
}

/** The etcd writes of the span since `before` (a revision) and the watch index `from`. */
export async function restartWrites(host: BenchHost, before: number, from: number): Promise<RestartWrites> {
  const after = await etcdRevision(host.env.client);
  const puts = host.env.watch.events.slice(from).filter((e) => e.type === 'put');
  return {
    revisions: after - before,
    puts: puts.length,
    putBytes: puts.reduce((sum, e) => sum + putBytes(e), 0),
    upPuts: puts.filter((e) => e.key.includes('/port_status/') && e.value === 'up').length,
  };
}
