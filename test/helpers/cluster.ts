/**
 * Many hosts in one real etcd, written as neutron and the agents would
 * leave them, for the cluster view: each host set up with the seed mappings
 * (4 vhosts), its ports in a mix of states, and a liveness key for the
 * hosts whose agent is alive.
 */
import type { Etcd3 } from 'etcd3';
import { keys } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { buildHost } from '../../src/setup/build';
import { SEED_MAPPINGS } from './system';

export interface SeedOptions {
  readonly hosts: number;
  /** At most 4 (the seed mappings' vhosts). */
  readonly portsPerHost: number;
  readonly alive: (index: number) => boolean;
  readonly firstIndex?: number;
}

export const hostName = (i: number): string => `compute-${String(i).padStart(2, '0')}`;

/** What each port of host i is left in, by (i + k) mod 5. */
const PHASES = ['up', 'up', 'plugging', 'failed', 'unplugging'] as const;
export const seededPhase = (host: number, k: number): (typeof PHASES)[number] => PHASES[(host + k) % PHASES.length]!;

export async function seedCluster(client: Etcd3, opts: SeedOptions): Promise<string[]> {
  const parsed = parseMappings(SEED_MAPPINGS, { beyondRealLimits: true });
  if (!parsed.configuration) throw new Error(parsed.errors.join('; '));
  const configuration = parsed.configuration;
  const names: string[] = [];
  for (let i = opts.firstIndex ?? 0; i < (opts.firstIndex ?? 0) + opts.hosts; i++) {
    const host = hostName(i);
    names.push(host);
    await buildHost(client, host, configuration);
    for (let k = 0; k < opts.portsPerHost; k++) {
      const port = `${String(i).padStart(8, '0')}-0000-4000-8000-${String(k).padStart(12, '0')}`;
      const phase = seededPhase(i, k);
      const vhostId = k;
      await client.put(keys.vhost(host, k < 2 ? 'phys1' : 'phys2', vhostId)).value(port);
      await client
        .put(keys.bindPort(host, port))
        .value(
          `{"vhost_id": ${vhostId}, "mac_address": "fa:16:3e:${String(i).padStart(2, '0')}:00:${String(k).padStart(2, '0')}"${k % 2 ? `, "vlan_id": ${100 + k}` : ''}}`,
        );
      await client.put(keys.action(host, port)).value(phase === 'unplugging' ? 'unplug' : 'plug');
      if (phase === 'up') await client.put(keys.portStatus(host, port)).value('up');
      if (phase === 'failed') await client.put(keys.portStatus(host, port)).value('error: spp-ctl refused classifier_table add: port busy');
    }
    if (opts.alive(i)) await client.put(keys.agent(host)).value(JSON.stringify({ version: '0.1.0', started_at: '2026-12-01T09:00:00Z', pid: 4000 + i }));
  }
  return names;
}
