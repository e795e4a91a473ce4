/**
 * What the driver must know about a host before it may bind a port there:
 * that it is an SPP host, that its agent is alive, and which physical
 * networks it serves.
 */
import type { Etcd3 } from 'etcd3';
import { decodeJson } from '../protocol/codecs';
import { ConfigurationValue, type HostConfiguration } from '../protocol/configuration';
import { hostKeyRanges, keys } from '../protocol/keys';
import { BindError } from './errors';

/** Reads configuration/<host>; missing or unreadable means "not an SPP host". */
export async function readHostConfiguration(client: Etcd3, host: string): Promise<HostConfiguration> {
  const key = keys.configuration(host);
  const raw = await client.get(key).string();
  if (raw === null) throw new BindError('unknown_host', `unknown host ${host}: ${key} is missing, so ${host} is not an SPP host`);
  const decoded = decodeJson(ConfigurationValue, key, raw);
  if (!decoded.ok) throw new BindError('unknown_host', `host ${host} cannot be used: its configuration is invalid: ${decoded.error}`);
  return decoded.value.vf;
}

/** Whether etcd holds any key of `host` (its configuration, agent, vhost or port keys): `spp status --host` and `spp port list --host` call a host without any unknown. */
export async function hostKnown(client: Etcd3, host: string): Promise<boolean> {
  const r = hostKeyRanges(host);
  const found = await Promise.all([
    ...r.exact.map((k) => client.get(k).exists()),
    ...r.prefixes.map(async (p) => (await client.getAll().prefix(p).limit(1).keys()).length > 0),
  ]);
  return found.includes(true);
}

/** Refuses a host whose agent keeps no liveness key (extension; see docs/driver-client.md). */
export async function checkAgentAlive(client: Etcd3, host: string): Promise<void> {
  const key = keys.agent(host);
  if (await client.get(key).exists()) return;
  throw new BindError(
    'agent_down',
    `agent down on ${host}: ${key} is missing (our agent keeps it alive with an etcd lease while it runs). ` +
      `If ${host} runs the original Python agent, which keeps no liveness key, use --skip-liveness-check ` +
      `(library: skipLivenessCheck).`,
  );
}

/** The NIC serving `phys`, or an error listing the networks the host does serve. */
export function requirePhysicalNetwork(host: string, config: HostConfiguration, phys: string): void {
  if (config.some((nic) => nic.physical_network === phys)) return;
  const served = [...new Set(config.map((nic) => nic.physical_network))];
  throw new BindError('unknown_physical_network', `physical network ${phys} is not served by host ${host}; its physical networks are: ${served.join(', ')}`);
}
