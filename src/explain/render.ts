/** An explanation as text: the verdict first, each sentence with its facts indented under it. */
import type { Explanation } from './explain';

export function renderExplanation(e: Explanation): string {
  const lines = [`port ${e.portId} on host ${e.host}: ${e.up ? 'UP' : 'NOT UP'} (${e.verdict}; etcd revision ${e.revision})`];
  for (const s of e.sentences) {
    lines.push(`- ${s.text}`);
    for (const f of s.facts) lines.push(`    ${f}`);
  }
  return `${lines.join('\n')}\n`;
}
