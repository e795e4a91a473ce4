/** An explanation as text: the verdict first, each sentence with its facts indented under it. Text from etcd is escaped (printable). */
import { printable } from '../protocol/printable';
import type { Explanation, Sentence } from './explain';
import type { TapExplanation } from './tap-explain';

function render(subject: string, host: string, up: boolean, verdict: string, revision: number, sentences: readonly Sentence[]): string {
  const lines = [`${subject} on host ${printable(host)}: ${up ? 'UP' : 'NOT UP'} (${verdict}; etcd revision ${revision})`];
  for (const s of sentences) {
    lines.push(`- ${printable(s.text)}`);
    for (const f of s.facts) lines.push(`    ${printable(f)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderExplanation(e: Explanation): string {
  return render(`port ${printable(e.portId)}`, e.host, e.up, e.verdict, e.revision, e.sentences);
}

/** A tap flow's explanation as text, worded as a port's. */
export function renderTapExplanation(e: TapExplanation): string {
  return render(`tap flow ${printable(e.tapFlowId)}`, e.host, e.up, e.verdict, e.revision, e.sentences);
}
