/**
 * bind_port as neutron's SPP mechanism driver does it (spec "Server side"),
 * with the two fixes the spec asks of our client: the agent's liveness key
 * is checked, and port_status is watched from our own action revision.
 */
import type { Etcd3 } from 'etcd3';
import { type BindPort, pythonJson } from '../protocol/codecs';
import { keys } from '../protocol/keys';
import { claimVhost, releaseVhost } from './claim';
import { BindError } from './errors';
import { checkAgentAlive, readHostConfiguration, requirePhysicalNetwork } from './host';
import { type StatusOutcome, waitForPortStatus } from './status';
import { bindInputProblem } from './validate';

/** The original driver waits 20 s for the agent. */
export const DEFAULT_BIND_TIMEOUT_MS = 20_000;

export interface BindPortRequest {
  readonly host: string;
  readonly portId: string;
  readonly mac: string;
  readonly physicalNetwork: string;
  /** The segmentation id of a VLAN segment; absent for flat. */
  readonly vlanId?: number | undefined;
  readonly timeoutMs?: number | undefined;
  /** For hosts running the original Python agent, which keeps no liveness key. */
  readonly skipLivenessCheck?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** What neutron records for a bound port (snake_case, as neutron spells it). */
export interface BindResult {
  readonly vif_type: 'vhostuser';
  readonly vif_details: {
    readonly port_filter: false;
    readonly vhostuser_mode: 'server';
    readonly vhostuser_socket: string;
  };
  readonly vhost_id: number;
  readonly physical_network: string;
  readonly status: 'ACTIVE';
}

export function bindResult(vhostId: number, physicalNetwork: string): BindResult {
  return {
    vif_type: 'vhostuser',
    vif_details: { port_filter: false, vhostuser_mode: 'server', vhostuser_socket: `/tmp/sock${vhostId}` },
    vhost_id: vhostId,
    physical_network: physicalNetwork,
    status: 'ACTIVE',
  };
}

/** The bind_port value, fields in the order the original writes them. */
export function bindPortValue(vhostId: number, mac: string, vlanId: number | undefined): BindPort {
  return vlanId === undefined ? { vhost_id: vhostId, mac_address: mac } : { vhost_id: vhostId, mac_address: mac, vlan_id: vlanId };
}

export async function bindPort(client: Etcd3, req: BindPortRequest): Promise<BindResult> {
  const problem = bindInputProblem(req);
  if (problem !== undefined) throw new BindError('invalid_input', `invalid bind request: ${problem}`);
  const { host, portId, physicalNetwork: phys } = req;

  const config = await readHostConfiguration(client, host);
  if (!req.skipLivenessCheck) await checkAgentAlive(client, host);
  requirePhysicalNetwork(host, config, phys);

  const bindKey = keys.bindPort(host, portId);
  if (await client.get(bindKey).exists()) throw alreadyBound(host, portId, bindKey);

  const claim = await claimVhost(client, host, phys, portId);
  if (!claim) throw new BindError('no_free_vhost', `no free vhost on ${phys} of ${host}`);

  // Create-only, so two binders of the same port cannot both write bind_port.
  const value = pythonJson(bindPortValue(claim.vhostId, req.mac, req.vlanId));
  const created = await client.if(bindKey, 'Version', '==', 0).then(client.put(bindKey).value(value)).commit();
  if (!created.succeeded) {
    if (!claim.reused) await releaseVhost(client, host, phys, claim.vhostId, portId);
    throw alreadyBound(host, portId, bindKey);
  }

  const actionPut = await client.put(keys.action(host, portId)).value('plug').exec();
  const outcome = await waitForPortStatus(client, {
    host,
    portId,
    fromRevision: Number(actionPut.header.revision),
    timeoutMs: req.timeoutMs ?? DEFAULT_BIND_TIMEOUT_MS,
    signal: req.signal,
  });
  return resultOf(outcome, req, claim.vhostId);
}

function resultOf(outcome: StatusOutcome, req: BindPortRequest, vhostId: number): BindResult {
  const { host, portId } = req;
  // The keys stay as they are, as in the original: the agent may still plug,
  // and neutron's unbind (action = unplug) is what releases the vhost.
  const cleanup = `vhost ${vhostId} stays claimed until the port is unbound (spp port unbind --host ${host} --port-id ${portId})`;
  switch (outcome.kind) {
    case 'up':
      return bindResult(vhostId, req.physicalNetwork);
    case 'error':
      return fail('agent_error', `agent on ${host} failed to plug port ${portId}: ${outcome.reason}; ${cleanup}`);
    case 'invalid':
      return fail('agent_error', `agent on ${host} reported an unknown status for port ${portId}: ${outcome.message}; ${cleanup}`);
    case 'timeout':
      return fail(
        'timeout',
        `timeout: no port_status from the agent on ${host} for port ${portId} within ${req.timeoutMs ?? DEFAULT_BIND_TIMEOUT_MS} ms; ${cleanup}`,
      );
  }
}

function fail(code: 'agent_error' | 'timeout', message: string): never {
  throw new BindError(code, message);
}

function alreadyBound(host: string, portId: string, bindKey: string): BindError {
  return new BindError('already_bound', `a bind was already tried for port ${portId} on ${host} (${bindKey} exists); unbind it first to bind again`);
}
