/**
 * A test-only protocol peer standing in for the compute-node agent until the
 * real one exists: it talks to a REAL etcd exactly as the agent does (it is
 * not a fake of etcd). It keeps the liveness key under a lease, answers
 * `action = plug` with `port_status = up` (or `error: <reason>`), and answers
 * `unplug` with the agent's cleanup transaction.
 */
import type { Etcd3, Lease, Watcher } from 'etcd3';
import { BindPort, decodeJson, FREE_VHOST, pythonJson } from '../../src/protocol/codecs';
import { keys, parseKey, prefixes } from '../../src/protocol/keys';

export interface FakeAgentPeerOptions {
  readonly host: string;
  /** Keep /spp/openstack/agent/<host> under a lease, as our agent does (default true). */
  readonly liveness?: boolean;
  /** Ports answered with `error: <reason>` instead of `up`. */
  readonly errors?: Readonly<Record<string, string>>;
  /** Ports whose plug is never answered (to provoke the driver's timeout). */
  readonly ignore?: readonly string[];
  /**
   * Answer a plug with `up` straight from the watch event, before even
   * reading bind_port: the fastest possible agent, which the original
   * driver misses.
   */
  readonly instant?: boolean;
}

export class FakeAgentPeer {
  /** Anything that went wrong inside the peer; tests assert it stays empty. */
  readonly failures: string[] = [];
  readonly plugged: string[] = [];
  readonly unplugged: string[] = [];
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: Etcd3,
    private readonly opts: FakeAgentPeerOptions,
    private readonly watcher: Watcher,
    private readonly lease: Lease | undefined,
  ) {}

  static async start(client: Etcd3, opts: FakeAgentPeerOptions): Promise<FakeAgentPeer> {
    let lease: Lease | undefined;
    if (opts.liveness ?? true) {
      lease = client.lease(10);
      await lease.put(keys.agent(opts.host)).value(JSON.stringify({ version: 'test-peer', started_at: new Date().toISOString(), pid: process.pid }));
    }
    const watcher = await client.watch().prefix(prefixes.actionOfHost(opts.host)).create();
    const peer = new FakeAgentPeer(client, opts, watcher, lease);
    watcher.on('put', (kv) => {
      const k = parseKey(kv.key.toString());
      if (k?.kind !== 'action') return;
      const action = kv.value.toString();
      // Like the original's global lock: one plug/unplug at a time, in order.
      peer.queue = peer.queue
        .then(() => peer.handle(k.portId, action))
        .catch((err: Error) => {
          peer.failures.push(`${k.portId} ${action}: ${err.message}`);
        });
    });
    return peer;
  }

  async stop(): Promise<void> {
    await this.watcher.cancel();
    await this.queue;
    await this.lease?.revoke();
  }

  private async handle(portId: string, action: string): Promise<void> {
    if (action === 'plug') return this.plug(portId);
    if (action === 'unplug') return this.unplug(portId);
    this.failures.push(`${portId}: unexpected action ${JSON.stringify(action)}`);
  }

  private async plug(portId: string): Promise<void> {
    if (this.opts.ignore?.includes(portId)) return;
    const { host } = this.opts;
    if (!this.opts.instant) {
      const raw = await this.client.get(keys.bindPort(host, portId)).string();
      if (raw === null) return; // as the original: no bind_port, nothing to do
      const bind = decodeJson(BindPort, keys.bindPort(host, portId), raw);
      if (!bind.ok) {
        await this.client.put(keys.portStatus(host, portId)).value(`error: ${bind.error}`);
        return;
      }
    }
    const reason = this.opts.errors?.[portId];
    await this.client.put(keys.portStatus(host, portId)).value(reason === undefined ? 'up' : `error: ${reason}`);
    this.plugged.push(portId);
  }

  private async unplug(portId: string): Promise<void> {
    const { host } = this.opts;
    const portKeys = [keys.bindPort(host, portId), keys.action(host, portId), keys.portStatus(host, portId)];
    const deletes = portKeys.map((k) => this.client.delete().key(k));
    const raw = await this.client.get(keys.bindPort(host, portId)).string();
    const bind = raw === null ? undefined : decodeJson(BindPort, portKeys[0]!, raw);
    const vhostKey = bind?.ok ? await this.vhostKey(bind.value.vhost_id) : undefined;
    if (vhostKey === undefined) {
      await this.client
        .if(portKeys[1]!, 'Version', '>', 0)
        .then(...deletes)
        .commit();
    } else {
      // One transaction: the vhost goes back to None only if this port still
      // owns it, and the port's keys go in the same step.
      await this.client
        .if(vhostKey, 'Value', '==', portId)
        .then(this.client.put(vhostKey).value(FREE_VHOST), ...deletes)
        .else(...deletes)
        .commit();
    }
    this.unplugged.push(portId);
  }

  private async vhostKey(vhostId: number): Promise<string | undefined> {
    const all = await this.client.getAll().prefix(prefixes.vhostOfHost(this.opts.host)).keys();
    return all.find((k) => {
      const p = parseKey(k);
      return p?.kind === 'vhost' && p.vhostId === vhostId;
    });
  }
}

export interface NicSpec {
  readonly phys: string;
  readonly vhosts: readonly number[];
  readonly coreMask?: string;
}

/**
 * Writes configuration/<host> (Python json.dumps formatting, as devstack's
 * spp-config-build does) and a free vhost key per vhost.
 */
export async function seedHost(client: Etcd3, host: string, nics: readonly NicSpec[]): Promise<void> {
  const config = nics.map((n, i) => ({
    num_vhost: n.vhosts.length,
    core_mask: n.coreMask ?? '0xfe',
    pci_address: `00:${(4 + i).toString(16).padStart(2, '0')}.0`,
    physical_network: n.phys,
  }));
  await client.put(keys.configuration(host)).value(pythonJson(config));
  for (const n of nics) for (const v of n.vhosts) await client.put(keys.vhost(host, n.phys, v)).value(FREE_VHOST);
}

/** The seed's host: phys1 with vhosts 0 and 1, phys2 with vhosts 2 and 3. */
export const SEED_NICS: readonly NicSpec[] = [
  { phys: 'phys1', vhosts: [0, 1], coreMask: '0xfe' },
  { phys: 'phys2', vhosts: [2, 3], coreMask: '0xfc02' },
];
