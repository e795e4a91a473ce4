/** An explanation as text: the verdict first, each sentence with its facts indented under it. Text from etcd is escaped (printable). */
import { printable } from '../protocol/printable';
import type { Explanation } from './explain';
import type { TapExplanation } from './tap-explain';

export function renderExplanation(e: Explanation): string {
  const lines = [`port ${printable(e.portId)} on host ${printable(e.host)}: ${e.up ? 'UP' : 'NOT UP'} (${e.verdict}; etcd revision ${e.revision})`];
  for (const s of e.sentences) {
    lines.push(`- ${printable(s.text)}`);
    for (const f of s.facts) lines.push(`    ${printable(f)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A tap flow's explanation as text, worded as a port's. */
export function renderTapExplanation(e: TapExplanation): string {
  const lines = [`tap flow ${printable(e.tapFlowId)} on host ${printable(e.host)}: ${e.up ? 'UP' : 'NOT UP'} (${e.verdict}; etcd revision ${e.revision})`];
  for (const s of e.sentences) {
    lines.push(`- ${printable(s.text)}`);
    for (const f of s.facts) lines.push(`    ${printable(f)}`);
  }
  return `${lines.join('\n')}\n`;
}
