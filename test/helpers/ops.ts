/** Reading an agent's ops endpoint in tests: /metrics parsed with a Prometheus text parser, /readyz. */
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { AgentHandle } from '../../src/daemon/daemon';

export interface Family {
  readonly name: string;
  readonly type: string;
  readonly metrics: ReadonlyArray<{ readonly value?: string; readonly labels?: Record<string, string> }>;
}

export async function opsUrl(agent: AgentHandle | undefined): Promise<string> {
  const server = await agent?.ops;
  if (!server) throw new Error('the agent has no ops endpoint');
  return server.url;
}

/**
 * Every family of the exposition, parsed. The parser folds a histogram's
 * series into one object and loses their labels (it supports unlabelled
 * histograms only), so the text is parsed twice: as served (which checks its
 * syntax and types), and with histograms declared untyped, which leaves each
 * `_bucket`, `_sum` and `_count` series as a family of its own with labels.
 */
export async function scrape(url: string): Promise<Family[]> {
  const res = await fetch(`${url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics: ${res.status}`);
  const text = await res.text();
  const typed = parsePrometheusTextFormat(text) as Family[];
  const series = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) histogram$/gm, '# TYPE $1 untyped')) as Family[];
  const histograms = new Set(typed.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
  // each label set's series come as families of their own: one family per name
  const merged = new Map<string, Family>();
  for (const f of series) {
    if (![...histograms].some((h) => f.name.startsWith(`${h}_`))) continue;
    const seen = merged.get(f.name);
    merged.set(f.name, seen ? { ...seen, metrics: [...seen.metrics, ...f.metrics] } : f);
  }
  return [...typed.map((f) => (histograms.has(f.name) ? { ...f, metrics: [] } : f)), ...merged.values()];
}

/** A series' value, 0 when absent; `labels` must all match. A histogram's name means its `_count`. */
export function sample(families: readonly Family[], name: string, labels: Record<string, string> = {}): number {
  const family = families.find((f) => f.name === name);
  if (!family) throw new Error(`no metric ${name}`);
  const series = family.type === 'HISTOGRAM' ? families.find((f) => f.name === `${name}_count`) : family;
  let total = 0;
  for (const m of series?.metrics ?? []) {
    if (!Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)) continue;
    total += Number(m.value ?? 0);
  }
  return total;
}

export async function readyz(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.text() };
}
