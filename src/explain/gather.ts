/**
 * The facts `spp explain` and `spp report` read: the host's keys at one
 * revision and its liveness key from etcd, and where they can be reached the
 * agent's ops endpoint (/view) and spp-ctl (GETs only: /v1/processes and
 * each vf's status). What cannot be reached is said, not fatal.
 */
import type { Etcd3 } from 'etcd3';
import type { StoredValue } from '../etcd/events';
import { readRanges } from '../etcd/listwatch';
import { hostWatchRanges, keys, prefixes } from '../protocol/keys';
import { httpTransport, SppCtlClient } from '../sppctl/client';
import type { MirrorStatus, VfStatus } from '../sppctl/wire';
import type { AgentFacts, ExplainInput, SppCtlFacts } from './explain';

export interface HostFacts {
  readonly host: string;
  readonly revision: number;
  readonly entries: Array<[string, StoredValue]>;
  readonly liveness: StoredValue | undefined;
  readonly agent?: AgentFacts | { readonly error: string; readonly url: string };
  /** The ops endpoint's /view as served (for the report). */
  readonly agentView?: unknown;
  readonly sppctl?: SppCtlFacts;
}

export interface GatherOptions {
  readonly client: Etcd3;
  readonly host: string;
  /** http://HOST:PORT of the agent's ops endpoint; not asked when undefined. */
  readonly opsUrl?: string;
  /** spp-ctl's URL; not asked when undefined. */
  readonly sppCtlUrl?: string;
  readonly timeoutMs?: number;
}

/** `HOST:PORT` or a bare port as --ops takes it, or a URL, as a base URL. */
export function opsBaseUrl(value: string): string {
  if (/^https?:\/\//.test(value)) return value.replace(/\/+$/, '');
  return /^\d+$/.test(value) ? `http://127.0.0.1:${value}` : `http://${value}`;
}

interface OpsView {
  readonly agentState?: string;
  readonly reason?: string;
  readonly view?: {
    readonly ports?: AgentFacts['ports'];
    readonly nics?: AgentFacts['nics'];
    readonly taps?: AgentFacts['taps'];
    readonly mirror?: AgentFacts['mirror'];
  };
}

export async function gatherHost(opts: GatherOptions): Promise<HostFacts> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const agentKey = keys.agent(opts.host);
  const ranges = hostWatchRanges(opts.host);
  const snap = await readRanges(opts.client, { prefixes: ranges.prefixes, keys: [...ranges.keys, agentKey] });
  const liveness = snap.kvs.get(agentKey);
  snap.kvs.delete(agentKey);
  const [agent, sppctl] = await Promise.all([
    opts.opsUrl ? readOps(opts.opsUrl, timeoutMs) : undefined,
    opts.sppCtlUrl ? readSppCtl(opts.sppCtlUrl, timeoutMs) : undefined,
  ]);
  return {
    host: opts.host,
    revision: snap.revision,
    entries: [...snap.kvs],
    liveness,
    ...(agent ? { agent: agent.facts, ...(agent.raw !== undefined ? { agentView: agent.raw } : {}) } : {}),
    ...(sppctl ? { sppctl } : {}),
  };
}

async function readOps(base: string, timeoutMs: number): Promise<{ facts: HostFacts['agent']; raw?: unknown }> {
  const url = opsBaseUrl(base);
  try {
    const res = await fetch(`${url}/view`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status !== 200) return { facts: { url, error: `GET /view answered ${res.status}` } };
    const raw = (await res.json()) as OpsView;
    const facts: AgentFacts = {
      ...(raw.agentState ? { agentState: raw.agentState } : {}),
      ...(raw.reason ? { reason: raw.reason } : {}),
      nics: raw.view?.nics ?? [],
      ports: raw.view?.ports ?? [],
      ...(raw.view?.taps ? { taps: raw.view.taps } : {}),
      ...(raw.view?.mirror ? { mirror: raw.view.mirror } : {}),
    };
    return { facts, raw };
  } catch (err) {
    return { facts: { url, error: (err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message } };
  }
}

async function readSppCtl(url: string, timeoutMs: number): Promise<SppCtlFacts> {
  const client = new SppCtlClient(httpTransport(url, { timeoutMs }));
  try {
    const processes = await client.processes();
    const vfs: VfStatus[] = [];
    const mirrors: MirrorStatus[] = [];
    const errors: string[] = [];
    for (const p of processes) {
      if (p.type === 'vf')
        await client.vfStatus(p['client-id']).then(
          (s) => void vfs.push(s),
          (err: Error) => void errors.push(err.message),
        );
      // TaaS: the spp_mirror's components and the rings they hold
      else if (p.type === 'mirror')
        await client.mirrorStatus(p['client-id']).then(
          (s) => void mirrors.push(s),
          (err: Error) => void errors.push(err.message),
        );
    }
    return { url, processes, vfs, ...(mirrors.length > 0 ? { mirrors } : {}), ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
  } catch (err) {
    return { url, error: (err as Error).message };
  }
}

/** Every host's bind_port keys of the given ports (`spp explain --tap-flow-id` names a port bound on another host). */
export async function readBindings(client: Etcd3, portIds: readonly string[]): Promise<Array<[string, StoredValue]>> {
  const snap = await readRanges(client, { prefixes: [prefixes.bindPort], keys: [] });
  return [...snap.kvs].filter(([k]) => portIds.some((id) => k.endsWith(`/${id}`)));
}

/** The explain input of the gathered host, for any of its ports. */
export function hostExplainInput(facts: HostFacts): Omit<ExplainInput, 'portId'> {
  return {
    host: facts.host,
    revision: facts.revision,
    entries: facts.entries,
    liveness: facts.liveness,
    ...(facts.agent ? { agent: facts.agent } : {}),
    ...(facts.sppctl ? { sppctl: facts.sppctl } : {}),
  };
}

/** The explain input for one port of the gathered host. */
export function explainInput(facts: HostFacts, portId: string): ExplainInput {
  return { ...hostExplainInput(facts), portId };
}
