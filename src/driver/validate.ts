/**
 * Input checks done before anything is written, so a bad request never
 * leaves a claimed vhost or a half-written bind behind.
 */
import { decodeValue, FREE_VHOST, macProblem, PhysicalNetwork, VlanId } from '../protocol/codecs';
import { keys } from '../protocol/keys';

/** Why a bind request cannot be carried out, or undefined when it can. */
export function bindInputProblem(req: {
  host: string;
  portId: string;
  mac: string;
  physicalNetwork: string;
  vlanId?: number | undefined;
  timeoutMs?: number | undefined;
}): string | undefined {
  return (
    keyProblem(req.host, req.portId) ??
    portIdProblem(req.portId) ??
    (macProblem(req.mac) !== undefined ? `mac: ${macProblem(req.mac)}` : undefined) ??
    decodeProblem(decodeValue(PhysicalNetwork, 'physical network', req.physicalNetwork)) ??
    (req.vlanId === undefined ? undefined : decodeProblem(decodeValue(VlanId, 'vlan', req.vlanId))) ??
    timeoutProblem(req.timeoutMs)
  );
}

/** Why an unbind request cannot be carried out, or undefined when it can. */
export function unbindInputProblem(req: { host: string; portId: string; timeoutMs?: number | undefined }): string | undefined {
  return keyProblem(req.host, req.portId) ?? timeoutProblem(req.timeoutMs);
}

function keyProblem(host: string, portId: string): string | undefined {
  try {
    keys.bindPort(host, portId);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

// The port id is stored as the owner of a vhost, where the text None means
// "free" and the agent compares the value byte for byte.
function portIdProblem(portId: string): string | undefined {
  if (portId === FREE_VHOST) return `port id ${JSON.stringify(portId)} is the free-vhost marker and cannot own a vhost`;
  if (/\s/.test(portId)) return `port id ${JSON.stringify(portId)} must not contain whitespace`;
  return undefined;
}

function timeoutProblem(timeoutMs: number | undefined): string | undefined {
  if (timeoutMs === undefined) return undefined;
  return Number.isFinite(timeoutMs) && timeoutMs > 0 ? undefined : `timeout must be a positive number of milliseconds, got ${timeoutMs}`;
}

function decodeProblem(d: { ok: true } | { ok: false; error: string }): string | undefined {
  return d.ok ? undefined : d.error;
}
