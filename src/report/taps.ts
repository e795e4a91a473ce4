/**
 * The tap flows (TaaS) and the spp_mirror in `spp report`: spp-ctl's
 * mirror statuses as read, a summary of the mirror and every flow (the
 * keys' words, the agent's machine, where the rings are), and `spp explain
 * --tap-flow-id` of every flow. Pure: from what gather read.
 */
import type { HostFacts } from '../explain/gather';
import { hostExplainInput } from '../explain/gather';
import { renderTapExplanation } from '../explain/render';
import { explainTaps } from '../explain/tap-explain';
import { decodeMirrorOwner } from '../protocol/codecs';
import { parseKey } from '../protocol/keys';
import type { MirrorStatus } from '../sppctl/wire';
import type { ReportFile } from './archive';

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;

/** Every tap flow id the host's keys name: its own keys, or a mirror claimed for it. */
export function tapFlowIds(facts: HostFacts): string[] {
  const ids = new Set<string>();
  for (const [k, v] of facts.entries) {
    const p = parseKey(k);
    if (p?.kind === 'tap_info' || p?.kind === 'tap_action' || p?.kind === 'tap_status') ids.add(p.tapFlowId);
    if (p?.kind === 'mirror') {
      const o = decodeMirrorOwner(k, v.value);
      if (o.ok && !o.value.free) ids.add(o.value.tapFlowId);
    }
  }
  return [...ids].sort();
}

function mirrorLines(where: string, m: MirrorStatus): string[] {
  const comps = m.components.flatMap((c) =>
    'name' in c
      ? [`  ${c.name} (core ${c.core}): rx ${c.rx_port.map((p) => p.port).join(', ') || '-'}; tx ${c.tx_port.map((p) => p.port).join(', ') || '-'}`]
      : [],
  );
  return [`spp_mirror ${m['client-id']} (${where}):`, ...(comps.length > 0 ? comps : ['  no component running'])];
}

/** The files of the taps part; none when the host has no flow and no mirror anywhere. */
export function tapReportFiles(facts: HostFacts): ReportFile[] {
  const files: ReportFile[] = [];
  const url = facts.sppctl?.url;
  for (const m of facts.sppctl?.mirrors ?? [])
    files.push({ path: `sppctl/mirror-${m['client-id']}.json`, what: `GET ${url}/v1/mirrors/${m['client-id']}`, content: json(m) });
  const agent = facts.agent && !('error' in facts.agent) ? facts.agent : undefined;
  const ids = tapFlowIds(facts);
  if (ids.length === 0 && files.length === 0 && !agent?.mirror) return files;

  const explained = explainTaps(hostExplainInput(facts), ids);
  const lines: string[] = [];
  for (const m of facts.sppctl?.mirrors ?? []) lines.push(...mirrorLines(`GET ${url}/v1/mirrors/${m['client-id']}`, m));
  if (agent?.mirror) {
    const am = agent.mirror;
    lines.push(`the agent's spp_mirror ${am.secId}: ${am.state}${am.lastError ? ` (${am.lastError})` : ''}`);
    for (const c of am.components) lines.push(`  configured ${c.name} on core ${c.core}, rings ${c.ports.join(', ')}`);
  }
  lines.push('', `${ids.length} tap flow(s):`);
  for (const e of explained) {
    const tap = agent?.taps?.find((f) => f.flowId === e.tapFlowId);
    lines.push(
      `  ${e.tapFlowId}: ${e.up ? 'UP' : 'NOT UP'} (${e.verdict})${tap ? `; agent machine ${tap.state}${tap.direction ? `, ${tap.direction}` : ''}${tap.lastError ? `, last error: ${tap.lastError}` : ''}` : ''}`,
    );
  }
  files.push({
    path: 'taps.txt',
    what: "the spp_mirror's components and rings, and every tap flow with its verdict and the agent's machine",
    content: `${lines.join('\n')}\n`,
  });
  if (ids.length > 0) {
    files.push({
      path: 'explain-taps.txt',
      what: `spp explain --tap-flow-id of the ${ids.length} tap flow(s)`,
      content: explained.map(renderTapExplanation).join('\n'),
    });
    files.push({ path: 'explain-taps.json', what: 'the same, as `spp explain --tap-flow-id --format json`', content: json(explained) });
  }
  return files;
}
