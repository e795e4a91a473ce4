/**
 * Text renderings of the host view for `spp config show` and `spp status`.
 * Pure: a view in, text out. Text from etcd goes through printable()
 * (table.ts does it for cells, values and list items).
 */
import { FORMAT_READERS } from '../protocol/configuration';
import { keys } from '../protocol/keys';
import type { NicLayout } from '../protocol/layout';
import { coreBudget } from '../protocol/layout-rules';
import { formatMappings } from '../protocol/mappings';
import { printable } from '../protocol/printable';
import { renderFields, renderList, renderTable } from './table';
import { describeBinding, type HostView, type PortKeysView, type SppView, type StrayKey, type VhostView } from './view';

/** [2,3,4,7] -> "2-4,7". */
export function compactRanges(ns: readonly number[]): string {
  const sorted = [...ns].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function ownerText(v: VhostView): string {
  if (!v.owner.ok) return 'INVALID';
  return v.owner.value.free ? 'free' : v.owner.value.portId;
}

function nicTable(view: HostView, indent: string): string {
  if (!view.layout) return '';
  return renderTable(
    ['NIC', 'PORT', 'SEC_ID', 'PCI', 'PHYSICAL_NETWORK', 'VHOSTS', 'CORE_MASK', 'MASTER', 'OCCUPIED'],
    view.layout.map((n) => [
      String(n.index),
      `phy:${n.index}`,
      String(n.secId),
      n.nic.pci_address,
      n.nic.physical_network,
      compactRanges(n.vhostIds),
      n.nic.core_mask,
      String(n.masterCore),
      compactRanges(n.components.map((c) => c.core)),
    ]),
    { indent },
  );
}

/** Every error and cross-check problem of a host, each naming its key or port. */
export function hostProblems(view: HostView): string[] {
  const out: string[] = [];
  if (view.configuration && !view.configuration.ok) out.push(view.configuration.error);
  for (const e of view.validation?.errors ?? []) out.push(`${view.configuration?.key}: ${e}`);
  if (view.layoutError) out.push(`${view.configuration?.key}: ${view.layoutError}`);
  if (view.agent && !view.agent.ok) out.push(view.agent.error);
  if (view.lock && !view.lock.ok) out.push(view.lock.error);
  for (const v of view.vhosts) {
    if (!v.owner.ok) out.push(v.owner.error);
    for (const p of v.problems) out.push(`${v.key}: ${p}`);
  }
  for (const p of view.ports) {
    for (const e of [p.bindPort, p.action, p.portStatus]) if (e && !e.ok) out.push(e.error);
    for (const problem of p.problems) out.push(`port ${p.portId}: ${problem}`);
  }
  for (const m of view.mirrors) if ('invalid' in m.owner) out.push(m.owner.invalid);
  for (const f of view.tapFlows) for (const [field, why] of Object.entries(f.errors)) out.push(`tap flow ${f.tapFlowId} ${field}: ${why}`);
  // the agent's own word on a flow it gave up on (tap_status = error: <reason>), whole: the table has no room for it
  for (const f of view.tapFlows) {
    const reason = tapErrorReason(f.status);
    if (reason !== undefined) out.push(`tap flow ${f.tapFlowId} failed: ${reason} (${keys.tapStatus(f.host, f.tapFlowId)})`);
  }
  for (const s of view.strayKeys) out.push(strayText(s));
  return out;
}

function strayText(s: StrayKey): string {
  return `${s.key}: ${s.error} (value ${JSON.stringify(s.raw.length > 60 ? `${s.raw.slice(0, 60)}...` : s.raw)})`;
}

/** `spp config show`: configuration, component layout per NIC, vhost usage. */
export function renderConfigShow(view: HostView): string {
  const parts: string[] = [];
  const config = view.configuration;
  parts.push(
    renderFields([
      ['host', view.host],
      ['configuration', config ? config.key : '(missing)'],
      ...(config?.ok ? ([['mappings', formatMappings(config.value)]] as [string, string][]) : []),
      ...(view.format ? ([['format', `${view.format}: read by ${FORMAT_READERS[view.format]}`]] as [string, string][]) : []),
      ['agent', agentText(view)],
    ]),
  );
  if (config?.ok) {
    parts.push(`\nNICs\n${nicTable(view, '  ')}`);
    for (const n of view.layout ?? []) {
      parts.push(
        `\nNIC ${n.index} (${printable(n.nic.pci_address)}, ${printable(n.nic.physical_network)}): spp_vf sec_id ${n.secId}, master core ${n.masterCore}\n` +
          `  ${budgetText(n)}\n` +
          renderTable(
            ['COMPONENT', 'TYPE', 'CORE', 'RX', 'TX'],
            n.components.map((c) => [c.name, c.type, String(c.core), c.rx.join(','), c.tx.join(',')]),
            { indent: '  ' },
          ),
      );
    }
  }
  parts.push(
    `\nvhosts\n${renderTable(
      ['VHOST', 'PHYSICAL_NETWORK', 'NIC', 'OWNER', 'KEY'],
      view.vhosts.map((v) => [String(v.vhostId), v.phys, v.nicIndex === undefined ? '-' : String(v.nicIndex), ownerText(v), v.key]),
      { indent: '  ', empty: '(no vhost keys)' },
    )}`,
  );
  const used = view.vhosts.filter((v) => v.owner.ok && !v.owner.value.free).length;
  parts.push(`  ${used} of ${view.vhosts.length} vhost(s) in use\n`);
  if (view.mirror || view.mirrors.length > 0) parts.push(mirrorTable(view));
  const warnings = view.validation?.warnings ?? [];
  if (warnings.length > 0) parts.push(`\n${renderList('warnings:', warnings)}`);
  const problems = hostProblems(view);
  if (problems.length > 0) parts.push(`\n${renderList('problems:', problems)}`);
  return parts.join('');
}

/** The declared spp_mirror components beside their mirror/<host>/<i> keys (TaaS). */
function mirrorTable(view: HostView): string {
  const decls = view.mirror ?? [];
  const slots = new Map(view.mirrors.map((m) => [m.mirrorId, m]));
  const ids = [...new Set([...decls.keys(), ...slots.keys()])].sort((a, b) => a - b);
  const owner = (id: number): string => {
    const o = slots.get(id)?.owner;
    if (!o) return '(no key)';
    return 'invalid' in o ? 'INVALID' : o.free ? 'free' : `tap flow ${o.tapFlowId}`;
  };
  const rows = ids.map((id) => {
    const d = decls[id];
    return [String(id), `mirror_${id}`, d ? String(d.core) : '-', d?.ports[0] ?? '-', d?.ports[1] ?? '-', owner(id), slots.get(id)?.key ?? '-'];
  });
  const claimed = view.mirrors.filter((m) => 'free' in m.owner && !m.owner.free).length;
  const undeclared = view.mirror ? '' : ' (the configuration declares no mirror list)';
  return (
    `\nmirrors (spp_mirror, TaaS)${undeclared}\n` +
    renderTable(['MIRROR', 'COMPONENT', 'CORE', 'RING_A (service)', 'RING_B (source)', 'OWNER', 'KEY'], rows, { indent: '  ' }) +
    `  ${claimed} of ${view.mirrors.length} mirror(s) claimed\n`
  );
}

/** "cores: 4 of 5 worker cores used (2-5); the default layout costs 6": what a declared layout saves. */
export function budgetText(n: NicLayout): string {
  const b = coreBudget(n.nic.core_mask, n.vhostIds.length, n.components);
  const layout = n.declared ? 'components as configured' : 'default components (computed)';
  return (
    `cores: ${b.used.length} of ${b.workers.length} worker core(s) of mask ${n.nic.core_mask} used (${compactRanges(b.used)}), ` +
    `${layout}; the default layout costs ${b.defaultCost} (2n+2)`
  );
}

function agentText(view: HostView): string {
  if (!view.agent) return `not running (no key /spp/openstack/agent/${view.host})`;
  if (!view.agent.ok) return 'alive (its liveness value is invalid, see problems)';
  const a = view.agent.value;
  if (a.refused !== undefined) return `refused: ${a.refused} (pid ${a.pid}, version ${a.version}, started ${a.started_at}${lockText(view)})`;
  return `alive (pid ${a.pid}, version ${a.version}, started ${a.started_at}${lockText(view)})`;
}

/** Who holds agent-lock/<host>, when it is not the agent named by agent/<host>. */
function lockText(view: HostView): string {
  if (!view.lock) return '';
  if (!view.lock.ok) return ', host lock value invalid';
  const holder = view.lock.value;
  return view.agent?.ok && holder.pid === view.agent.value.pid ? '' : `, host lock held by pid ${holder.pid} on ${holder.node}`;
}

function portCells(p: PortKeysView | undefined): string[] {
  if (!p) return ['', '', '', ''];
  const bind = p.bindPort ? (p.bindPort.ok ? describeBinding(p.bindPort.value) : 'INVALID') : '-';
  const action = p.action ? (p.action.ok ? p.action.value : 'INVALID') : '-';
  const status = p.portStatus ? (p.portStatus.ok ? p.portStatus.value : 'INVALID') : '-';
  return [p.portId, bind, action, status];
}

/** One host in `spp status`. */
export function renderHostStatus(view: HostView): string {
  const parts: string[] = [`host ${printable(view.host)}: agent ${printable(agentText(view))}\n`];
  const config = view.configuration;
  if (!config) parts.push(`  no configuration (/spp/openstack/configuration/${printable(view.host)} is missing): not an SPP host for the driver\n`);
  else if (!config.ok) parts.push('  configuration INVALID (see problems)\n');
  else parts.push(nicTable(view, '  '));
  const portById = new Map(view.ports.map((p) => [p.portId, p]));
  parts.push(
    renderTable(
      ['VHOST', 'PHYSICAL_NETWORK', 'OWNER', 'BINDING', 'ACTION', 'STATUS'],
      view.vhosts.map((v) => {
        const owner = v.owner.ok && !v.owner.value.free ? portById.get(v.owner.value.portId) : undefined;
        const [, bind, action, status] = portCells(owner);
        return [String(v.vhostId), v.phys, ownerText(v), bind!, action!, status!];
      }),
      { indent: '  ', empty: '(no vhost keys)' },
    ),
  );
  const loose = view.ports.filter((p) => p.vhostKeys.length === 0);
  if (loose.length > 0) {
    parts.push(`  ports that own no vhost key:\n${renderTable(['PORT', 'BINDING', 'ACTION', 'STATUS'], loose.map(portCells), { indent: '    ' })}`);
  }
  if (view.mirrors.length > 0 || view.tapFlows.length > 0) parts.push(tapText(view));
  parts.push(renderList('problems:', hostProblems(view), '  '));
  return parts.join('');
}

/** The reason of a tap_status `error: <reason>` (or `error`), undefined for any other value. */
export function tapErrorReason(status: string | null): string | undefined {
  if (status === null || !/^error\b/.test(status)) return undefined;
  return status.replace(/^error:?\s*/, '') || '(no reason given)';
}

/** The host's mirrors and tap flows (TaaS), as `spp tap list` shows them. */
function tapText(view: HostView): string {
  const claimed = view.mirrors.filter((m) => 'free' in m.owner && !m.owner.free).length;
  const dash = (v: string | number | null): string => (v === null ? '-' : String(v));
  return (
    `  mirrors: ${claimed} of ${view.mirrors.length} claimed; tap flows:\n` +
    renderTable(
      ['TAP FLOW', 'DIR', 'SERVICE PORT', 'SOURCE PORT', 'IN', 'OUT', 'ACTION', 'STATUS'],
      view.tapFlows.map((f) => [
        f.tapFlowId,
        dash(f.direction),
        dash(f.servicePort),
        dash(f.sourcePort),
        dash(f.mirrorIn),
        dash(f.mirrorOut),
        dash(f.action),
        tapErrorReason(f.status) !== undefined ? 'ERROR (see problems)' : dash(f.status),
      ]),
      { indent: '    ', empty: '(none)' },
    )
  );
}

/** `spp status`: every host, then keys that belong to no host. */
export function renderStatus(view: SppView): string {
  const head = `/spp at revision ${view.revision ?? '?'}: ${view.hosts.length} host(s)\n`;
  const hosts = view.hosts.map((h) => `\n${renderHostStatus(h)}`).join('');
  const stray = view.strayKeys.length > 0 ? `\n${renderList('keys that belong to no host:', view.strayKeys.map(strayText))}` : '';
  return head + hosts + stray;
}
