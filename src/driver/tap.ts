/**
 * `tap create|delete` as networking-spp's TaaS service driver
 * (SppTaasDriver, upstream-final 1b) does them: both ports bound on the same
 * host, mirrors claimed by compare-and-swap, tap_info then tap_action = plug,
 * and a wait for tap_status; delete turns tap_action into unplug.
 */
import type { Etcd3 } from 'etcd3';
import { pythonJson, type TapInfo } from '../protocol/codecs';
import { hostProblem, keys, prefixes, tapFlowIdProblem } from '../protocol/keys';
import { abortError, type StatusOutcome, waitForStatusKey } from './status';
import { claimMirror, freeMirror, noMirrorReason, readMirrorSlots } from './tap-claim';
import { TapError } from './tap-errors';
import { waitForKeysGone } from './unbind';

/** The service driver's WAIT_TAP_TIMEOUT. */
export const DEFAULT_TAP_TIMEOUT_MS = 30_000;

export const TAP_DIRECTIONS = ['IN', 'OUT', 'BOTH'] as const;
export type TapDirection = (typeof TAP_DIRECTIONS)[number];

export interface CreateTapRequest {
  readonly host: string;
  readonly tapFlowId: string;
  readonly servicePort: string;
  readonly sourcePort: string;
  readonly direction: TapDirection;
  /** Wait for tap_status (upstream always waits, and only warns). */
  readonly wait?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface CreateTapResult {
  readonly outcome: 'plug_requested' | 'up';
  readonly host: string;
  readonly tapFlowId: string;
  readonly tapInfo: TapInfo;
  readonly message: string;
}

/** Why a create request cannot be carried out, or undefined when it can. */
export function createTapInputProblem(req: {
  host: string;
  tapFlowId: string;
  servicePort: string;
  sourcePort: string;
  direction: string;
  timeoutMs?: number | undefined;
}): string | undefined {
  return (
    hostProblem(req.host) ??
    tapFlowIdProblem(req.tapFlowId) ??
    // the flow id becomes a mirror key's owner, where None means free
    (req.tapFlowId === 'None' || /\s/.test(req.tapFlowId) ? `tap flow id ${JSON.stringify(req.tapFlowId)} cannot own a mirror` : undefined) ??
    portProblem('service port', req.servicePort) ??
    portProblem('source port', req.sourcePort) ??
    ((TAP_DIRECTIONS as readonly string[]).includes(req.direction) ? undefined : `direction must be IN, OUT or BOTH, got ${JSON.stringify(req.direction)}`) ??
    timeoutProblem(req.timeoutMs)
  );
}

/** Why a delete request cannot be carried out, or undefined when it can. */
export function deleteTapInputProblem(req: { host: string; tapFlowId: string; timeoutMs?: number | undefined }): string | undefined {
  return hostProblem(req.host) ?? tapFlowIdProblem(req.tapFlowId) ?? timeoutProblem(req.timeoutMs);
}

function portProblem(what: string, portId: string): string | undefined {
  try {
    keys.bindPort('h', portId);
    return undefined;
  } catch (err) {
    return `${what}: ${(err as Error).message}`;
  }
}

function timeoutProblem(timeoutMs: number | undefined): string | undefined {
  if (timeoutMs === undefined) return undefined;
  return Number.isFinite(timeoutMs) && timeoutMs > 0 ? undefined : `timeout must be a positive number of milliseconds, got ${timeoutMs}`;
}

/** The hosts (other than `host`) where a port has a bind_port key, for the not-the-same-host message. */
async function boundElsewhere(client: Etcd3, portId: string): Promise<string[]> {
  const found = await client.getAll().prefix(prefixes.bindPort).keys();
  return found.filter((k) => k.endsWith(`/${portId}`)).map((k) => k.slice(prefixes.bindPort.length, -portId.length - 1));
}

export async function createTap(client: Etcd3, req: CreateTapRequest): Promise<CreateTapResult> {
  const problem = createTapInputProblem(req);
  if (problem !== undefined) throw new TapError('invalid_input', `invalid tap create request: ${problem}`);
  const { host, tapFlowId: tf } = req;

  // 1. the source port decides the host (the driver reads its binding:host_id)
  const sourceKey = keys.bindPort(host, req.sourcePort);
  if (!(await client.get(sourceKey).exists())) {
    throw new TapError('not_bound', `source port ${req.sourcePort} is not bound on host ${host} (${sourceKey} is missing)`);
  }
  // 2. the service port must be bound there too
  const serviceKey = keys.bindPort(host, req.servicePort);
  if (!(await client.get(serviceKey).exists())) {
    const elsewhere = await boundElsewhere(client, req.servicePort);
    if (elsewhere.length === 0) {
      throw new TapError('not_bound', `service port ${req.servicePort} is not bound on any host (${serviceKey} is missing)`);
    }
    throw new TapError(
      'not_same_host',
      `service port ${req.servicePort} is bound on ${elsewhere.join(', ')}, not on ${host}, the source port's host; ` +
        `a tap copies traffic only within one host (${serviceKey} is missing)`,
    );
  }
  // A second create of the same flow would claim more mirrors and orphan the first ones.
  const infoKey = keys.tapInfo(host, tf);
  if (await client.get(infoKey).exists()) {
    throw new TapError('already_exists', `tap flow ${tf} already exists on ${host} (${infoKey}); delete it first`);
  }

  // 3. mirrors: IN (or BOTH) first, then OUT; a half-claimed BOTH gives its first mirror back
  let mirrorIn: number | null = null;
  let mirrorOut: number | null = null;
  if (req.direction !== 'OUT') {
    mirrorIn = (await claimMirror(client, host, tf, [])) ?? null;
    if (mirrorIn === null) throw await noMirror(client, host, tf);
  }
  if (req.direction !== 'IN') {
    mirrorOut = (await claimMirror(client, host, tf, mirrorIn === null ? [] : [mirrorIn])) ?? null;
    if (mirrorOut === null) {
      const reason = await noMirror(client, host, tf);
      if (mirrorIn !== null) await freeMirror(client, host, mirrorIn);
      throw mirrorIn === null ? reason : new TapError('no_mirror_free', `${reason.message}; mirror ${mirrorIn} claimed for IN was given back`);
    }
  }

  // 4. tap_info, then tap_action
  const tapInfo: TapInfo = { service_port: req.servicePort, source_port: req.sourcePort, mirror_in: mirrorIn, mirror_out: mirrorOut };
  await client.put(infoKey).value(pythonJson(tapInfo));
  const put = await client.put(keys.tapAction(host, tf)).value('plug').exec();
  const mirrors = `mirror_in ${mirrorIn ?? '-'}, mirror_out ${mirrorOut ?? '-'}`;
  if (!req.wait) {
    return { outcome: 'plug_requested', host, tapFlowId: tf, tapInfo, message: `tap flow ${tf} requested on ${host} (${mirrors})` };
  }

  // 5. tap_status, watched from our tap_action's revision
  const timeoutMs = req.timeoutMs ?? DEFAULT_TAP_TIMEOUT_MS;
  const outcome = await waitForStatusKey(client, keys.tapStatus(host, tf), { fromRevision: Number(put.header.revision), timeoutMs, signal: req.signal });
  return resultOf(outcome, { host, tf, tapInfo, mirrors, timeoutMs });
}

async function noMirror(client: Etcd3, host: string, tf: string): Promise<TapError> {
  const slots = await readMirrorSlots(client, host);
  return new TapError('no_mirror_free', `no mirror free for tap flow ${tf}: ${noMirrorReason(host, slots)}`);
}

function resultOf(outcome: StatusOutcome, c: { host: string; tf: string; tapInfo: TapInfo; mirrors: string; timeoutMs: number }): CreateTapResult {
  // As upstream, the flow stays created whatever the agent answers: delete removes it.
  const stays = `the tap flow stays created; remove it with spp tap delete --host ${c.host} --tap-flow-id ${c.tf}`;
  switch (outcome.kind) {
    case 'up':
      return { outcome: 'up', host: c.host, tapFlowId: c.tf, tapInfo: c.tapInfo, message: `tap flow ${c.tf} is up on ${c.host} (${c.mirrors})` };
    case 'error':
      throw new TapError('agent_error', `agent on ${c.host} failed to plug tap flow ${c.tf}: ${outcome.reason}; ${stays}`);
    case 'invalid':
      throw new TapError('agent_error', `agent on ${c.host} reported an unknown tap status for ${c.tf}: ${outcome.message}; ${stays}`);
    case 'timeout':
      throw new TapError('timeout', `timeout: no tap_status from the agent on ${c.host} for tap flow ${c.tf} within ${c.timeoutMs} ms; ${stays}`);
  }
}

export interface DeleteTapRequest {
  readonly host: string;
  readonly tapFlowId: string;
  /** Wait until the agent has removed tap_info, tap_action and tap_status (upstream does not wait). */
  readonly wait?: boolean | undefined;
  readonly timeoutMs?: number | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface DeleteTapResult {
  readonly outcome: 'nothing_to_delete' | 'unplug_requested' | 'deleted';
  readonly message: string;
}

export async function deleteTap(client: Etcd3, req: DeleteTapRequest): Promise<DeleteTapResult> {
  const problem = deleteTapInputProblem(req);
  if (problem !== undefined) throw new TapError('invalid_input', `invalid tap delete request: ${problem}`);
  const { host, tapFlowId: tf } = req;
  const actionKey = keys.tapAction(host, tf);
  // Without tap_action the agent has already cleaned up (or never had the flow).
  if (!(await client.get(actionKey).exists())) {
    return { outcome: 'nothing_to_delete', message: `nothing to delete: tap flow ${tf} has no tap_action on ${host} (${actionKey} is missing)` };
  }
  const put = await client.put(actionKey).value('unplug').exec();
  if (!req.wait) return { outcome: 'unplug_requested', message: `unplug requested for tap flow ${tf} on ${host}; the agent frees its mirrors` };
  if (req.signal?.aborted) throw abortError(req.signal);
  const timeoutMs = req.timeoutMs ?? DEFAULT_TAP_TIMEOUT_MS;
  const flowKeys = [keys.tapInfo(host, tf), actionKey, keys.tapStatus(host, tf)];
  const done = await waitForKeysGone(client, flowKeys, { fromRevision: Number(put.header.revision), timeoutMs, signal: req.signal });
  if (!done) {
    const left: string[] = [];
    for (const k of flowKeys) if (await client.get(k).exists()) left.push(k);
    throw new TapError(
      'timeout',
      `timeout: the agent on ${host} did not remove tap flow ${tf} within ${timeoutMs} ms; still present: ${left.join(', ') || '(none by now)'}`,
    );
  }
  return { outcome: 'deleted', message: `tap flow ${tf} deleted on ${host}: the agent removed its keys and freed its mirrors` };
}
