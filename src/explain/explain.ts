/**
 * Why a port is or is not up, in plain sentences, each with the facts behind
 * it (keys with their revisions, values, the spp_vf entries). Pure: the
 * facts come from etcd, and where reachable the agent's ops endpoint and
 * spp-ctl (src/explain/gather.ts); the visualizer gives the agent's own
 * cache and view. The port's desired state is derived by the agent's own
 * code (HostStore, intentOf, resolveConflicts), so the explanation cannot
 * disagree with what the agent does.
 */

import type { PortTag } from '../../machines/tags';
import { HostStore } from '../agent/host-state';
import { intentOf, resolveConflicts } from '../agent/intent';
import type { MirrorView, NicView, PortView, TapView } from '../agent/view';
import type { StoredValue } from '../etcd/events';
import type { PortIntent } from '../plan/desired';
import { driftRemedy, layoutDrift } from '../plan/drift';
import { observeVhost, type VhostObserved } from '../plan/observed';
import { planVhost } from '../plan/planner';
import { keys } from '../protocol/keys';
import { nicOfVhost, portNames } from '../protocol/layout';
import type { MirrorStatus, ProcessEntry, VfStatus } from '../sppctl/wire';
import { beliefText } from './release';

/** What the agent says of the port and its NIC (its ops endpoint's /view, or the visualizer's controller). */
export interface AgentFacts {
  readonly agentState?: string;
  readonly reason?: string;
  /** The agent's port machines (the one of the port, if any, is found by id). */
  readonly ports: readonly PortView[];
  readonly nics: readonly NicView[];
  /** The agent's tap flows and its spp_mirror (TaaS), when its view has them. */
  readonly taps?: readonly TapView[];
  readonly mirror?: MirrorView;
}

export interface SppCtlFacts {
  /** Where spp-ctl was asked. */
  readonly url: string;
  readonly processes?: readonly ProcessEntry[];
  /** GET /v1/vfs/<id> of the vfs spp-ctl lists. */
  readonly vfs?: readonly VfStatus[];
  /** GET /v1/mirrors/<id> of the spp_mirrors spp-ctl lists (TaaS). */
  readonly mirrors?: readonly MirrorStatus[];
  readonly error?: string;
}

export interface ExplainInput {
  readonly host: string;
  readonly portId: string;
  /** The revision the host's keys were read at. */
  readonly revision: number;
  /** The host's keys (the ranges the agent watches). */
  readonly entries: ReadonlyArray<[string, StoredValue]>;
  /** agent/<host>: undefined when missing; `unknown` when not read (the visualizer inside the agent). */
  readonly liveness: StoredValue | undefined | 'unknown';
  /** The agent's own view; `{ error }` when its ops endpoint could not be reached; undefined when not asked. */
  readonly agent?: AgentFacts | { readonly error: string; readonly url: string };
  readonly sppctl?: SppCtlFacts;
}

/** Every verdict, in the order they are checked, with what it means: `spp explain --help` and the docs list them from here. */
export const VERDICTS = {
  'unknown-host': 'etcd has no key of the host at all (no configuration, no agent, no port): check the host name',
  'no-keys': 'the host is known but the port has no keys on it: neutron has not bound it here',
  'no-bind-port': 'an action without bind_port: the agent waits for the bind_port',
  'waiting-for-action': 'a bind_port without action: the driver writes action = plug next',
  'no-configuration': "the host's configuration is missing or invalid",
  'vhost-claimed': 'the vhost key names another port',
  'invalid-input': 'the MAC, VLAN, vhost id or action is invalid; retrying will not fix it',
  'agent-down': "the host's liveness key is missing: no agent acts on the port",
  unplugging: 'action is unplug; the agent is removing the port',
  'vf-missing': 'spp-ctl does not list the spp_vf that serves the vhost',
  'nic-not-built': "the agent's NIC failed to build (retryWait)",
  'waiting-for-nic': 'the port waits for its NIC to be built',
  'sppctl-error': "the port's last spp-ctl error, while it retries or after it gave up",
  'classifier-missing': 'spp_vf has no classifier entry for the vhost',
  'classifier-other-mac': "spp_vf's classifier entry for the vhost names another MAC or VLAN",
  'vf-differs': "the vhost's VLAN settings in spp_vf differ from what the port needs",
  plugging: "the agent is sending the port's spp-ctl commands",
  'not-reported': 'port_status is not up',
  up: 'port_status = up and everything checked agrees (the text says what was not checked)',
} as const;

export type Verdict = keyof typeof VERDICTS;

export interface Sentence {
  readonly text: string;
  readonly facts: readonly string[];
}

export interface Explanation {
  readonly host: string;
  readonly portId: string;
  readonly revision: number;
  /** true only when the port is up and consistent (the CLI exits 0). */
  readonly up: boolean;
  readonly verdict: Verdict;
  /** The first sentence says the verdict; the others what else was found. */
  readonly sentences: readonly Sentence[];
  /** For `up`: what the verdict did not check (spp_vf itself when spp-ctl was not asked, the agent's view when it was not read). */
  readonly unchecked?: readonly string[];
}

/** A stored value as an explanation quotes it: JSON-quoted, cut at `max` characters. */
export const preview = (v: string, max = 240): string => (v.length > max ? `${JSON.stringify(v.slice(0, max))}... (${v.length} bytes)` : JSON.stringify(v));
/** A key and its stored value (or its absence) as an explanation states it; the tap flow's explanation says its keys alike. */
export const fact = (key: string, v: StoredValue | undefined): string =>
  v ? `${key} (mod revision ${v.modRevision}) = ${preview(v.value)}` : `${key}: no such key`;
const entryText = (e: { type: string; value: string; port: string }): string => `${e.type} ${e.value} -> ${e.port}`;

export function explainPort(input: ExplainInput): Explanation {
  return explainPorts(input, [input.portId])[0]!;
}

/** Several ports of one host: the keys are read into a store and the intents derived once. */
export function explainPorts(input: Omit<ExplainInput, 'portId'>, portIds: readonly string[]): Explanation[] {
  const store = new HostStore(input.host);
  store.reset(input.entries, input.revision);
  const config = store.configuration();
  const facts = { host: input.host, layout: config.state === 'valid' ? config.layout : [], vhosts: store.vhosts(), claims: store.claims() };
  const raw = new Map<string, PortIntent>();
  for (const id of new Set([...store.portIds(), ...portIds])) raw.set(id, intentOf(store.portKeys(id), facts));
  const intents = resolveConflicts(raw, facts);
  return portIds.map((portId) => explainOne({ ...input, portId }, store, intents.get(portId)!));
}

function explainOne(input: ExplainInput, store: HostStore, intent: PortIntent): Explanation {
  const { host, portId } = input;
  const pk = store.portKeys(portId);
  const bindKey = keys.bindPort(host, portId);
  const actionKey = keys.action(host, portId);
  const statusKey = keys.portStatus(host, portId);
  const keyFacts = [fact(bindKey, pk.bindPort), fact(actionKey, pk.action), fact(statusKey, pk.portStatus)];
  const config = store.configuration();
  const layout = config.state === 'valid' ? config.layout : [];
  const agent = input.agent && !('error' in input.agent) ? input.agent : undefined;
  const port = agent?.ports.find((p) => p.portId === portId);
  const sentences: Sentence[] = [];
  const say = (text: string, f: readonly string[] = []): void => void sentences.push({ text, facts: f });
  let driftNic: { secId: number; drift: readonly string[] } | undefined;
  const done = (verdict: Verdict, unchecked?: readonly string[]): Explanation => {
    // what else is known, after the verdict
    if (driftNic) say(`${driftRemedy(driftNic.secId)}.`, driftNic.drift);
    if (input.agent && 'error' in input.agent) say(`The agent's ops endpoint at ${input.agent.url} could not be reached: ${input.agent.error}.`);
    if (port)
      say(
        `The agent's port machine is in state ${port.state}${port.lastError ? `; its last error: ${port.lastError}` : ''}.`,
        port.history.slice(-5).map((h) => `rev ${h.revision}: ${h.what} [${h.state}]${h.error ? ` error: ${h.error}` : ''}`),
      );
    else if (agent) say(`The agent runs no machine for port ${portId}.`);
    const secId = intent.kind === 'plug' || intent.kind === 'unplug' ? intent.place?.secId : undefined;
    const belief = agent?.nics.find((n) => n.secId === secId)?.release;
    if (secId !== undefined && belief) say(beliefText(secId, belief));
    if (input.sppctl?.error) say(`spp-ctl at ${input.sppctl.url} could not be asked: ${input.sppctl.error}.`);
    return { host, portId, revision: input.revision, up: verdict === 'up', verdict, sentences, ...(unchecked ? { unchecked } : {}) };
  };

  if (input.entries.length === 0 && input.liveness === undefined) {
    const configKey = keys.configuration(host);
    say(
      `Host ${host} is unknown: etcd has no key of it (no ${configKey}, no ${keys.agent(host)}, no vhost or port keys), so neither \`spp config build\` nor an agent has been there; check the host name (\`spp status\` lists the hosts).`,
      [`${configKey}: no such key`, `${keys.agent(host)}: no such key`, ...keyFacts],
    );
    return done('unknown-host');
  }
  if (!pk.bindPort && !pk.action && !pk.portStatus) {
    say(`Port ${portId} has no keys on host ${host}: neutron has not bound it here (or it was unbound and cleaned up).`, keyFacts);
    return done('no-keys');
  }
  if (intent.kind === 'idle') {
    if (!pk.bindPort) {
      say(`Port ${portId} has no bind_port on host ${host}: the driver wrote the action before (or without) bind_port, so the agent waits for it.`, keyFacts);
      return done('no-bind-port');
    }
    say(`Port ${portId} has a bind_port but no action yet: the driver writes action = plug next, and the agent waits for it.`, keyFacts);
    return done('waiting-for-action');
  }
  if (config.state !== 'valid' && intent.kind !== 'unplug') {
    const configKey = keys.configuration(host);
    say(
      config.state === 'missing'
        ? `Host ${host} is not set up: ${configKey} is missing (\`spp config build\` writes it), so no vhost of port ${portId} exists.`
        : `Host ${host}'s configuration is invalid, so the agent keeps no layout for port ${portId}: ${config.errors.join('; ')}.`,
      [fact(configKey, store.get(configKey)), ...keyFacts],
    );
    return done('no-configuration');
  }
  if (intent.kind === 'invalid') {
    if (intent.cause === 'vhost-claimed') {
      const place = pk.bindPort ? vhostKeyFacts(store, pk.bindPort.value) : [];
      say(`Port ${portId} cannot be plugged: its vhost belongs to another port. ${intent.reason}.`, [...keyFacts, ...place]);
      return done('vhost-claimed');
    }
    say(`Port ${portId} cannot be plugged: its request is invalid, and retrying will not fix it. ${intent.reason}.`, keyFacts);
    return done('invalid-input');
  }
  if (input.liveness !== 'unknown' && input.liveness === undefined) {
    say(
      `The agent of host ${host} is down: the liveness key ${keys.agent(host)} is missing (it expires one lease TTL after the agent stops), so nothing acts on port ${portId} (action ${pk.action?.value ?? 'missing'}).`,
      [`${keys.agent(host)}: no such key`, ...keyFacts],
    );
    return done('agent-down');
  }
  if (intent.kind === 'unplug') {
    say(
      `Port ${portId} is being unplugged: action is unplug; the agent clears ${intent.place ? `vhost ${intent.place.vhostId}'s classifier entry on spp_vf ${intent.place.secId}` : 'nothing in spp_vf (no usable bind_port)'}, then deletes the port's keys in one transaction.`,
      keyFacts,
    );
    return done('unplugging');
  }

  const { place, rule } = intent;
  const want = `${rule.vlan !== undefined ? `${rule.vlan}/` : ''}${rule.mac.toUpperCase()}`;
  const placeFacts = [...keyFacts, ...(place.vhostKey ? [fact(place.vhostKey, store.get(place.vhostKey))] : [])];
  const nic = agent?.nics.find((n) => n.secId === place.secId);
  const processes = input.sppctl?.processes;
  const vfListed = processes?.some((p) => p.type === 'vf' && 'client-id' in p && p['client-id'] === place.secId);
  if (processes && !vfListed) {
    const listed = processes.map((p) => ('client-id' in p ? `${p.type}:${p['client-id']}` : p.type)).join(', ') || 'nothing';
    say(`spp_vf ${place.secId}, which serves vhost ${place.vhostId}, is not running: spp-ctl's GET /v1/processes lists ${listed}.`, [
      `GET ${input.sppctl!.url}/v1/processes: ${listed}`,
      ...(nic ? [`NIC ${nic.secId}: ${nic.state}${nic.lastError ? ` (${nic.lastError})` : ''}`] : []),
      ...placeFacts,
    ]);
    return done('vf-missing');
  }
  if (nic && !nic.tags.includes('up')) {
    // retrying: an attempt failed (spp-ctl or the vf away); otherwise (waiting for the vf, building) on the way
    const notBuilt = nic.tags.includes('retrying');
    say(
      notBuilt
        ? `spp_vf ${place.secId} is not built: the agent's NIC is ${nic.state}${nic.lastError ? ` because ${nic.lastError}` : ''}; port ${portId} waits for it.`
        : `Port ${portId} waits for its NIC: spp_vf ${place.secId} is ${nic.state}; the port plugs once it is ready.`,
      [`NIC ${nic.secId} (${nic.layout.nic.pci_address}): ${nic.state}${nic.lastError ? ` (${nic.lastError})` : ''}`, ...placeFacts],
    );
    return done(notBuilt ? 'nic-not-built' : 'waiting-for-nic');
  }
  const portIs = (tag: PortTag): boolean => port?.tags.includes(tag) ?? false;
  if (portIs('waiting')) {
    say(`Port ${portId} waits for its NIC (spp_vf ${place.secId}) to be ready.`, placeFacts);
    return done('waiting-for-nic');
  }
  if (port && (portIs('retrying') || portIs('failed')) && port.lastError) {
    say(
      `The last spp-ctl error for port ${portId}: ${port.lastError}${portIs('retrying') ? ' (the agent retries with backoff)' : ' (the agent gave up; port_status says so)'}.`,
      placeFacts,
    );
    return done('sppctl-error');
  }
  const asked = input.sppctl?.vfs?.find((v) => v['client-id'] === place.secId);
  const vf = asked ?? nic?.status;
  const nicLayout = nicOfVhost(layout, place.vhostId);
  const drift = vf && nicLayout ? layoutDrift(nicLayout, vf).map((d) => d.text) : [];
  if (drift.length > 0) driftNic = { secId: place.secId, drift };
  const vfSource = asked ? `GET ${input.sppctl!.url}/v1/vfs/${place.secId}` : "the agent's cached status of spp_vf";
  const targets = nicLayout?.targets.find((x) => x.vhostId === place.vhostId);
  // a layout without this vhost was reported above; the c33920f ring is the fallback name only
  const ring = targets?.entryPort ?? portNames.toVm(place.vhostId);
  if (vf) {
    const entries = vf.classifier_table.filter((e) => e.port === ring);
    const table = [`${vfSource} ${place.secId} classifier_table for ${ring}: ${entries.map(entryText).join('; ') || 'none'}`];
    const observed: VhostObserved = targets ? observeVhost(vf, targets) : {};
    if (!observed.rule) {
      say(`spp_vf ${place.secId} has no classifier entry for port ${portId}: nothing on ${ring} (vhost ${place.vhostId}); it should be ${want}.`, [
        ...table,
        ...placeFacts,
      ]);
      return done('classifier-missing');
    }
    if (observed.rule.mac !== rule.mac || observed.rule.vlan !== rule.vlan) {
      say(
        `spp_vf ${place.secId}'s classifier entry on ${ring} (vhost ${place.vhostId}) points at ${entries.map((e) => e.value).join(', ')}, not at port ${portId}'s ${want}.`,
        [...table, ...placeFacts],
      );
      return done('classifier-other-mac');
    }
    const plan = nicLayout ? planVhost(nicLayout, place.vhostId, rule, vf) : [];
    if (plan.length > 0) {
      say(
        `spp_vf ${place.secId} has port ${portId}'s classifier entry, but vhost ${place.vhostId}'s VLAN settings differ from what it needs (${plan.length} command(s) would fix them).`,
        [...table, ...placeFacts],
      );
      return done('vf-differs');
    }
  }
  if ((portIs('running') && !portIs('removing')) || portIs('deciding')) {
    say(`Port ${portId} is being plugged: the agent is sending its spp-ctl commands (vhost ${place.vhostId}, ${want}).`, placeFacts);
    return done('plugging');
  }
  if (pk.portStatus?.value !== 'up') {
    say(
      `Port ${portId} is not reported up: port_status is ${pk.portStatus ? preview(pk.portStatus.value) : 'missing'}; the agent writes up once spp_vf classifies ${want} to vhost ${place.vhostId}.`,
      placeFacts,
    );
    return done('not-reported');
  }
  const confirmed = [
    asked
      ? `spp-ctl shows spp_vf ${place.secId} classifying it to ${ring}`
      : vf
        ? `the agent's cached status of spp_vf ${place.secId} classifies it to ${ring}`
        : undefined,
    port ? `the agent's port machine is ${port.state}` : undefined,
  ].filter((c): c is string => c !== undefined);
  const unchecked = [
    ...(asked ? [] : [`spp_vf ${place.secId} itself (spp-ctl was not asked${input.sppctl?.error ? ' successfully' : '; give --spp-ctl or SPP_CTL_URL'})`]),
    ...(agent || input.liveness === 'unknown' ? [] : ["the agent's own view (its ops endpoint was not read; give --ops or SPP_OPS)"]),
  ];
  say(
    `Port ${portId} is up: port_status = up for ${want} on vhost ${place.vhostId} of spp_vf ${place.secId}${confirmed.length > 0 ? `, and ${confirmed.join(' and ')}` : ''}.`,
    [
      ...placeFacts,
      ...(vf
        ? [
            `${vfSource} ${place.secId} classifier_table for ${portNames.toVm(place.vhostId)}: ${vf.classifier_table
              .filter((e) => e.port === portNames.toVm(place.vhostId))
              .map(entryText)
              .join('; ')}`,
          ]
        : []),
    ],
  );
  if (unchecked.length > 0) say(`Not checked: ${unchecked.join('; ')}.`);
  return done('up', unchecked);
}

/** The vhost key a bind_port names, with its value (who claims it). */
function vhostKeyFacts(store: HostStore, bindPort: string): string[] {
  let vhostId: unknown;
  try {
    vhostId = (JSON.parse(bindPort) as { vhost_id?: unknown }).vhost_id;
  } catch {
    return [];
  }
  const v = typeof vhostId === 'number' ? store.vhosts().get(vhostId) : undefined;
  return v ? [fact(v.key, store.get(v.key))] : [];
}
