/**
 * The observed side of a plan (`spp replay --spp-ctl URL`): the status of
 * each spp_vf of the host's configuration, read from a real spp-ctl with
 * GET requests only. Nothing here can send any other method: the replay
 * then runs the agent against an in-process copy of these statuses, so its
 * commands are what the agent would send to that host now.
 */
import { readConfiguration } from '../agent/host-state';
import { keys } from '../protocol/keys';
import type { VfStatus } from '../sppctl/wire';
import { InputError } from './input';
import { decodeVfStatus } from './vf-status-input';

const TIMEOUT_MS = 10_000;

/** The vf ids of the host's configuration (the value of its configuration key). */
export function configuredVfs(host: string, configuration: string | undefined): number[] {
  const view = readConfiguration(host, configuration);
  if (view.state === 'missing') throw new InputError(`host ${host} has no configuration key (${keys.configuration(host)}): no spp_vf to read from spp-ctl`);
  if (view.state === 'invalid') throw new InputError(`host ${host}'s configuration (${keys.configuration(host)}) is not valid: ${view.errors.join('; ')}`);
  return view.layout.map((l) => l.secId);
}

/** GET <url>/v1/vfs/<id> for every id; vf id -> status. */
export async function readSppCtlStatuses(url: string, secIds: readonly number[]): Promise<Map<number, VfStatus>> {
  const base = url.replace(/\/+$/, '');
  const out = new Map<number, VfStatus>();
  for (const id of secIds) {
    const where = `${base}/v1/vfs/${id}`;
    let res: Response;
    try {
      res = await fetch(where, { method: 'GET', signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      throw new InputError(
        `spp-ctl at ${base}: GET /v1/vfs/${id} failed: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
      );
    }
    const text = await res.text();
    if (res.status !== 200) throw new InputError(`spp-ctl at ${base}: GET /v1/vfs/${id} answered ${res.status}: ${text.slice(0, 200)}`);
    out.set(id, decodeVfStatus(text, where));
  }
  return out;
}
