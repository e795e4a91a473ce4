/**
 * What `spp report` puts in its archive, except the CLI's own outputs
 * (`spp status`, `spp config show`), which the command adds: the host's keys
 * with revisions (also as etcdctl JSON, which `spp replay` reads), spp-ctl's
 * processes and vf statuses, the agent's /metrics, /readyz and /view, an
 * explanation of every port that is not up, a replay of the keys, and the
 * versions of everything. Only GETs: nothing is changed anywhere.
 */
import type { Etcd3 } from 'etcd3';
import { explainPorts } from '../explain/explain';
import { gatherHost, type HostFacts, hostExplainInput, opsBaseUrl } from '../explain/gather';
import { releaseReport } from '../explain/release';
import { renderExplanation } from '../explain/render';
import { keys, parseKey } from '../protocol/keys';
import { formatReport, parseInput, replay } from '../replay';
import { configuredVfs } from '../replay/sppctl-observed';
import type { VfStatus } from '../sppctl/wire';
import { VERSION } from '../version';
import type { ReportFile } from './archive';
import { tapReportFiles } from './taps';

export interface CollectOptions {
  readonly client: Etcd3;
  readonly host: string;
  readonly opsUrl?: string;
  readonly sppCtlUrl?: string;
  readonly timeoutMs?: number;
}

export interface Collected {
  readonly files: ReportFile[];
  /** What could not be included, and why. */
  readonly notes: string[];
  readonly facts: HostFacts;
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

export async function collectReport(opts: CollectOptions): Promise<Collected> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const { host } = opts;
  const files: ReportFile[] = [];
  const notes: string[] = [];
  const facts = await gatherHost({
    client: opts.client,
    host,
    ...(opts.opsUrl ? { opsUrl: opts.opsUrl } : {}),
    ...(opts.sppCtlUrl ? { sppCtlUrl: opts.sppCtlUrl } : {}),
    timeoutMs,
  });

  // the keys the agent watches, plus its liveness key and lock, at one revision
  const lock = (await opts.client.get(keys.agentLock(host)).exec()).kvs[0];
  const kvs = [
    ...facts.entries.map(([key, v]) => ({ key, value: v.value, mod_revision: v.modRevision })),
    ...(facts.liveness ? [{ key: keys.agent(host), value: facts.liveness.value, mod_revision: facts.liveness.modRevision }] : []),
    ...(lock ? [{ key: lock.key.toString(), value: lock.value.toString(), mod_revision: Number(lock.mod_revision) }] : []),
  ].sort((a, b) => a.key.localeCompare(b.key));
  const etcdctlJson = JSON.stringify({
    header: { revision: facts.revision },
    kvs: kvs.map((kv) => ({ key: b64(kv.key), value: b64(kv.value), mod_revision: kv.mod_revision })),
    count: kvs.length,
  });
  files.push({
    path: 'etcd/keys.txt',
    what: `the host's ${kvs.length} keys at revision ${facts.revision}, with their mod revisions`,
    content: `${kvs.map((kv) => `${kv.key} (mod revision ${kv.mod_revision})\n  ${kv.value}`).join('\n')}\n`,
  });
  files.push({
    path: 'etcd/keys.etcdctl.json',
    what: 'the same keys as `etcdctl get -w json` writes them (`spp replay` reads this file)',
    content: `${etcdctlJson}\n`,
  });

  if (facts.sppctl) {
    if (facts.sppctl.processes)
      files.push({ path: 'sppctl/processes.json', what: `GET ${facts.sppctl.url}/v1/processes`, content: json(facts.sppctl.processes) });
    for (const vf of facts.sppctl.vfs ?? [])
      files.push({ path: `sppctl/vf-${vf['client-id']}.json`, what: `GET ${facts.sppctl.url}/v1/vfs/${vf['client-id']}`, content: json(vf) });
    if (facts.sppctl.error) notes.push(`spp-ctl at ${facts.sppctl.url}: ${facts.sppctl.error}`);
  } else notes.push('spp-ctl not asked (give --spp-ctl or SPP_CTL_URL)');
  const agentNics = facts.agent && !('error' in facts.agent) ? facts.agent.nics : [];
  const release = releaseReport(agentNics, facts.sppctl?.vfs ?? []);
  if (release.length > 0)
    files.push({
      path: 'sppctl/release.txt',
      what: 'the SPP release family the agent believes runs each spp_vf and why, and what the statuses spp-ctl returned say',
      content: `${release.join('\n')}\n`,
    });

  if (opts.opsUrl) {
    const base = opsBaseUrl(opts.opsUrl);
    for (const [path, file, what] of [
      ['/metrics', 'agent/metrics.txt', "the agent's Prometheus metrics"],
      ['/readyz', 'agent/readyz.txt', "the agent's readiness (status line, then its reason)"],
      ['/view', 'agent/view.json', "the agent's live view: machines, states, histories, cached vf statuses"],
    ] as const) {
      try {
        const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await res.text();
        files.push({ path: file, what, content: path === '/readyz' ? `${res.status}\n${body}` : path === '/view' ? json(JSON.parse(body)) : body });
      } catch (err) {
        notes.push(
          `the agent's ${path} at ${base} could not be read: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`,
        );
      }
    }
  } else notes.push("the agent's ops endpoint not asked (give --ops or SPP_OPS)");

  const portIds = [
    ...new Set(
      facts.entries.flatMap(([k]) => {
        const parsed = parseKey(k);
        return parsed && 'portId' in parsed ? [parsed.portId] : [];
      }),
    ),
  ].sort();
  const explanations = explainPorts(hostExplainInput(facts), portIds);
  const notUp = explanations.filter((e) => !e.up);
  files.push({
    path: 'explain.txt',
    what: `spp explain of the ${notUp.length} port(s) of ${portIds.length} that are not up`,
    content: notUp.length > 0 ? notUp.map(renderExplanation).join('\n') : `all ${portIds.length} port(s) are up and consistent\n`,
  });
  files.push({ path: 'explain.json', what: 'the same, as `spp explain --format json`', content: json(notUp) });
  // TaaS: the mirror's statuses, the flows and their explanations
  files.push(...tapReportFiles(facts));

  try {
    const observed = observedVfs(facts);
    const report = await replay([parseInput(etcdctlJson, 'etcd/keys.etcdctl.json')], {
      host,
      jobs: 1,
      ...(observed ? { observed, observedFrom: `${facts.sppctl!.url} (the sppctl/vf-*.json above)` } : {}),
    });
    files.push({
      path: 'replay.txt',
      what: observed
        ? 'a replay of the keys from the vf statuses collected above: what an agent starting now would send spp-ctl (none for a healthy host), and the invariants it checks'
        : 'a replay of the keys from empty vfs (the statuses of the configured vfs were not all read from spp-ctl): every command a rebuild after a reboot would send, and the invariants it checks',
      content: formatReport(report),
    });
  } catch (err) {
    notes.push(`replay of the keys failed: ${(err as Error).message}`);
  }

  let etcdVersion: string | undefined;
  try {
    etcdVersion = (await opts.client.maintenance.status()).version;
  } catch (err) {
    notes.push(`etcd's version could not be read: ${(err as Error).message}`);
  }
  let agentVersion: unknown;
  try {
    agentVersion = facts.liveness ? (JSON.parse(facts.liveness.value) as { version?: unknown }).version : undefined;
  } catch {
    agentVersion = undefined;
  }
  files.push({
    path: 'versions.json',
    what: 'versions: this spp, node and its libraries, etcd, the running agent',
    content: json({
      spp: VERSION,
      node: process.versions.node,
      platform: `${process.platform} ${process.arch}`,
      libraries: libraryVersions(),
      etcd: etcdVersion ?? null,
      agent: agentVersion ?? null,
      agentView: (facts.agentView as { version?: unknown } | undefined)?.version ?? null,
    }),
  });
  return { files, notes, facts };
}

/**
 * The vf statuses just read from spp-ctl, for the replay to start from (so
 * that it shows what the agent would change now, not a rebuild from empty
 * vfs); undefined when some configured vf's status is missing, since a
 * replay from a half-observed host would blame the unread vfs.
 */
function observedVfs(facts: HostFacts): Map<number, VfStatus> | undefined {
  const read = new Map((facts.sppctl?.vfs ?? []).map((v) => [v['client-id'], v] as const));
  const configuration = facts.entries.find(([k]) => k === keys.configuration(facts.host))?.[1].value;
  let wanted: number[];
  try {
    wanted = configuredVfs(facts.host, configuration);
  } catch {
    return undefined;
  }
  if (wanted.length === 0 || !wanted.every((id) => read.has(id))) return undefined;
  return new Map(wanted.map((id) => [id, read.get(id)!]));
}

function libraryVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['etcd3', 'rxjs', 'xstate', 'io-ts', 'fp-ts', 'winston', 'prom-client']) {
    try {
      out[name] = (require(`${name}/package.json`) as { version: string }).version;
    } catch {
      out[name] = 'unknown';
    }
  }
  return out;
}
