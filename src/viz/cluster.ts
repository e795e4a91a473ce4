/**
 * The cluster view: every host found under /spp/openstack/ in etcd, whether
 * its agent is alive, its NICs and its ports by phase, from the keys alone
 * (no agent needed). `clusterView` is pure over a key/value map;
 * `watchCluster` keeps that map live through a list-watch of the prefix.
 */
import type { Etcd3 } from 'etcd3';
import { type Observable, Subject, type Subscription } from 'rxjs';
import { listWatch } from '../etcd/listwatch';
import { ROOT } from '../protocol/keys';
import { type PortKeysView as EtcdPort, groupHostViews, type HostView } from '../setup/view';
import type { Phase } from './port-rows';

export interface ClusterPort {
  readonly portId: string;
  readonly phase: Phase;
  readonly vhostId?: number;
  readonly mac?: string;
  readonly vlan?: number;
  readonly action?: string;
  readonly status?: string;
}

export interface ClusterHost {
  readonly host: string;
  readonly agentAlive: boolean;
  /** The liveness value (version, start time, pid), or why it does not decode. */
  readonly agent?: string;
  /** Where this host's agent serves its page (--agent-ui), if known. */
  readonly agentUi?: string;
  readonly configuration: 'missing' | 'invalid' | 'valid';
  readonly nics: ReadonlyArray<{ readonly secId: number; readonly pci: string; readonly phys: string; readonly vhosts: number }>;
  readonly ports: readonly ClusterPort[];
  readonly counts: Readonly<Record<Phase, number>>;
  readonly problems: readonly string[];
}

export interface ClusterView {
  readonly revision: number;
  /** Whether the watch is connected to etcd right now. */
  readonly connected: boolean;
  readonly reason: string;
  readonly hosts: readonly ClusterHost[];
}

/** A port's phase as etcd tells it: action and port_status. */
export function etcdPhase(p: EtcdPort): Phase {
  const action = p.action?.ok ? p.action.value : undefined;
  const status = p.portStatus?.raw;
  if (action === 'unplug') return 'unplugging';
  if (action === 'plug') return status === 'up' ? 'up' : status !== undefined ? 'failed' : 'plugging';
  if (p.action && !p.action.ok) return 'failed';
  return p.bindPort ? 'plugging' : 'free';
}

function clusterHost(h: HostView, agentUi: ReadonlyMap<string, string>): ClusterHost {
  const counts: Record<Phase, number> = { failed: 0, retrying: 0, plugging: 0, unplugging: 0, up: 0, free: 0 };
  const ports = h.ports.map((p): ClusterPort => {
    const phase = etcdPhase(p);
    counts[phase]++;
    const bind = p.bindPort?.ok ? p.bindPort.value : undefined;
    const vlan = bind?.vlan_id ?? undefined;
    return {
      portId: p.portId,
      phase,
      ...(bind ? { vhostId: bind.vhost_id, mac: bind.mac_address } : {}),
      ...(typeof vlan === 'number' ? { vlan } : {}),
      ...(p.action ? { action: p.action.raw } : {}),
      ...(p.portStatus ? { status: p.portStatus.raw } : {}),
    };
  });
  const problems = [
    ...(h.configuration && !h.configuration.ok ? [h.configuration.error] : []),
    ...(h.validation?.errors ?? []),
    ...(h.layoutError ? [h.layoutError] : []),
    ...h.vhosts.flatMap((v) => v.problems),
    ...h.ports.flatMap((p) => p.problems),
    ...h.strayKeys.map((s) => `${s.key}: ${s.error}`),
  ];
  const ui = agentUi.get(h.host);
  return {
    host: h.host,
    agentAlive: h.agentAlive,
    ...(h.agent
      ? { agent: h.agent.ok ? `version ${h.agent.value.version}, started ${h.agent.value.started_at}, pid ${h.agent.value.pid}` : h.agent.error }
      : {}),
    ...(ui ? { agentUi: ui } : {}),
    configuration: !h.configuration ? 'missing' : h.configuration.ok && (h.validation?.errors.length ?? 0) === 0 && h.layout ? 'valid' : 'invalid',
    nics: (h.layout ?? []).map((n) => ({ secId: n.secId, pci: n.nic.pci_address, phys: n.nic.physical_network ?? '', vhosts: n.vhostIds.length })),
    ports,
    counts,
    problems,
  };
}

export function clusterView(
  values: Readonly<Record<string, string>>,
  agentUi: ReadonlyMap<string, string>,
  state: { revision: number; connected: boolean; reason: string },
): ClusterView {
  return { ...state, hosts: groupHostViews(values).hosts.map((h) => clusterHost(h, agentUi)) };
}

export interface ClusterWatch {
  view(): ClusterView;
  /** The etcd-side facts of one host (its keys decoded), undefined when no key names it. */
  host(name: string): HostView | undefined;
  readonly changes: Observable<unknown>;
  close(): void;
}

/** Keeps the cluster view live: one list-watch over the whole prefix. */
export function watchCluster(client: Etcd3, agentUi: ReadonlyMap<string, string>): ClusterWatch {
  const values = new Map<string, string>();
  const state = { revision: 0, connected: false, reason: 'connecting' };
  const changes = new Subject<void>();
  const sub: Subscription = listWatch(client, { prefixes: [ROOT], keys: [] }).subscribe((ev) => {
    if (ev.type === 'connection') {
      state.connected = ev.connected;
      state.reason = ev.reason;
    } else if (ev.type === 'reset') {
      values.clear();
      for (const [k, v] of ev.entries) values.set(k, v.value);
      state.revision = ev.revision;
      state.connected = true;
    } else if (ev.type === 'put') {
      values.set(ev.key, ev.value);
      state.revision = ev.revision;
    } else {
      values.delete(ev.key);
      state.revision = ev.revision;
    }
    changes.next();
  });
  const snapshot = (): Record<string, string> => Object.fromEntries(values);
  return {
    view: () => clusterView(snapshot(), agentUi, state),
    host: (name) => groupHostViews(snapshot(), name).hosts[0],
    changes,
    close: () => {
      sub.unsubscribe();
      changes.complete();
    },
  };
}
