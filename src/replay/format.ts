/**
 * The replay report as text for a terminal: per host the NIC layout, each
 * port's final state (desired and observed), the spp-ctl commands in order,
 * and the invariants that do not hold. No timestamps: the same report always
 * prints the same bytes.
 */

import type { Violation } from './invariants';
import type { HostReport, RecordedComparison, ReplayReport, StepReport } from './report';

export function formatReport(report: ReplayReport, opts: { step?: boolean } = {}): string {
  const out: string[] = [];
  for (const i of report.inputs) {
    const h = i.history;
    out.push(
      h
        ? `input: ${i.source} (${i.format}: ${h.keys} key${h.keys === 1 ? '' : 's'} at revision ${h.listRevision}, then ${h.events} change${h.events === 1 ? '' : 's'} up to revision ${h.lastRevision})`
        : `input: ${i.source} (${i.format}, ${i.size} ${i.format === 'event-log' ? 'entries' : 'keys'})`,
    );
  }
  out.push(`observed: ${report.observed}`);
  for (const h of report.hosts) {
    out.push('');
    out.push(...formatHost(h, opts.step === true));
  }
  if (report.invariants.length > 0) {
    out.push('', 'keys that belong to no host:');
    out.push(...formatViolations(report.invariants));
  }
  out.push('');
  const broken = report.invariants.length + report.hosts.reduce((n, h) => n + h.invariants.length, 0);
  out.push(
    report.ok
      ? `all invariants hold (${report.hosts.length} host${report.hosts.length === 1 ? '' : 's'})`
      : `${broken} invariant violation${broken === 1 ? '' : 's'}`,
  );
  return `${out.join('\n')}\n`;
}

function formatHost(h: HostReport, step: boolean): string[] {
  const out = [`host ${h.host}: ${h.steps} step${h.steps === 1 ? '' : 's'}, revision ${h.revision}, configuration ${h.configuration}`];
  for (const e of h.configurationErrors) out.push(`  configuration error: ${e}`);
  if (step && h.trace) {
    out.push('  steps:');
    for (const s of h.trace) out.push(...formatStep(s));
  }
  out.push('  NICs:');
  if (h.nics.length === 0) out.push('    (none)');
  for (const n of h.nics) {
    out.push(`    vf ${n.secId}  ${n.pciAddress}  ${n.physicalNetwork}  vhosts ${n.vhostIds.join(',')}  ${n.state}${n.lastError ? `  (${n.lastError})` : ''}`);
  }
  out.push('  ports:');
  if (h.ports.length === 0) out.push('    (none)');
  for (const p of h.ports) {
    out.push(`    ${p.portId}  ${p.state}${p.vhostId !== undefined ? `  vhost ${p.vhostId}` : ''}`);
    out.push(`      desired:  ${p.desired}`);
    if (p.observed !== undefined) out.push(`      observed: ${p.observed}`);
    if (p.lastError !== undefined) out.push(`      error:    ${p.lastError}`);
  }
  if (h.taps) {
    out.push('  tap flows:');
    for (const f of h.taps) {
      out.push(`    ${f.flowId}  ${f.state}${f.lastError ? `  (${f.lastError})` : ''}`);
      out.push(`      states:   ${f.states.join(' -> ')}`);
      for (const c of f.commands) out.push(`      command:  ${c}`);
    }
  }
  out.push(`  spp-ctl commands (${h.commands.length}):`);
  for (const c of h.commands) out.push(`    ${c}`);
  if (h.recorded) {
    out.push(...formatRecorded(h.recorded));
  }
  if (h.invariants.length === 0) out.push('  invariants: all hold');
  else {
    out.push(`  invariants that do not hold (${h.invariants.length}):`);
    out.push(...formatViolations(h.invariants));
  }
  return out;
}

function formatStep(s: StepReport): string[] {
  return [`    [${s.revision}] ${s.label}`, ...s.trace.map((t) => `        ${t}`)];
}

function formatViolations(list: readonly Violation[]): string[] {
  return list.flatMap((v) => [`    ${v.code}: ${v.message}`, `      keys: ${v.keys.join(' ')}`]);
}

/** One step of `spp replay --follow`, as it happens. */
export function formatFollowedStep(s: StepReport & { readonly host: string }): string {
  return `${[`[${s.revision}] host ${s.host}: ${s.label}`, ...s.trace.map((t) => `    ${t}`)].join('\n')}\n`;
}

/** The recorded requests against the replay's, saying what a difference or a failed request means. */
function formatRecorded(r: RecordedComparison): string[] {
  const out: string[] = [];
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const accepted = r.recorded - r.failed.length;
  if (r.failed.length === 0) {
    out.push(
      r.differences.length === 0
        ? `  recorded requests: the replay sent the same ${r.replayed} mutating requests as the agent`
        : `  recorded requests: the agent sent ${r.recorded}, the replay ${r.replayed}; ${plural(r.differences.length, 'difference')}:`,
    );
  } else {
    const head = `  recorded requests: the agent sent ${r.recorded}; spp-ctl refused or did not answer ${r.failed.length} of them (listed below; the agent retried them);`;
    out.push(
      r.differences.length === 0
        ? `${head} the replay sent the same ${r.replayed} as the ${accepted} spp-ctl accepted`
        : `${head} the replay sent ${r.replayed} against the ${accepted} spp-ctl accepted: ${plural(r.differences.length, 'difference')}:`,
    );
  }
  for (const d of r.differences) out.push(`    ${d}`);
  if (r.differences.length > 0) {
    out.push(
      '    (a difference: the live agent met something the record does not replay: a vf that restarted, events handled in another order while a command was in flight,',
      '     or a request whose answer was lost though spp-ctl carried it out; see docs/debugging.md, section 5)',
    );
  }
  if (r.failed.length > 0) {
    out.push(`  requests spp-ctl refused or did not answer (${r.failed.length}; the replay's emulator accepts each at once, so they are not compared):`);
    for (const f of r.failed) out.push(`    ${f}`);
  }
  return out;
}
