/**
 * Why a tap flow (TaaS) is or is not up, in plain sentences with the facts
 * behind each: `spp explain --tap-flow-id`. Pure, like the port's
 * explanation: the flow's desired state is derived by the agent's own code
 * (HostStore, src/plan/tap-desired.ts tapIntents) and the rings it needs by
 * the agent's planner (src/plan/tap-plan.ts, through tap-check.ts), so the
 * explanation cannot disagree with what the agent does.
 */
import type { TapTag } from '../../machines/tags';
import { HostStore } from '../agent/host-state';
import type { StoredValue } from '../etcd/events';
import { type TapFacts, type TapFlow, type TapIntent, tapIntents } from '../plan/tap-desired';
import { decodeJson, decodeMirrorOwner, TapInfo } from '../protocol/codecs';
import { keys, parseKey } from '../protocol/keys';
import type { MirrorStatus } from '../sppctl/wire';
import { type ExplainInput, fact, preview, type Sentence } from './explain';
import { missingMirrorComponents, missingTapSteps, redirectText, tapObserved } from './tap-check';

/** Every verdict of a tap flow, in the order they are checked: `spp explain --help` and docs/debugging.md list them from here. */
export const TAP_VERDICTS = {
  'unknown-host': 'etcd has no key of the host at all: check the host name',
  'no-keys': 'the host has no key of the tap flow (no tap_info, tap_action, tap_status, no mirror naming it)',
  'no-tap-info': 'tap_action (or a mirror claim) without tap_info: a create stopped half-way, or keys written by hand; the agent does nothing',
  'no-tap-action': 'tap_info without tap_action: the driver writes tap_action next; if it stays, the create stopped',
  'no-configuration': "the host's configuration is missing or invalid",
  'no-mirror': 'the configuration lists no spp_mirror (spp config build --mirrors)',
  'port-not-bound': 'the source or service port has no bind_port on this host (not bound, or bound on another host)',
  'mirror-not-claimed': 'a mirror tap_info names is not claimed by this flow (its mirror/<host>/<id> key is missing, None or names another flow)',
  conflict: 'another flow already mirrors the same direction of the source port, or uses the same mirror; the earlier one keeps it',
  'invalid-input': 'tap_info or tap_action is invalid, or the layout cannot carry a tap (no forwarders); retrying will not fix it',
  'agent-down': "the host's liveness key is missing: no agent acts on the flow",
  unplugging: 'tap_action is unplug, or a port the flow uses is being unplugged; the agent is removing the flow',
  'mirror-not-running': 'spp-ctl does not list the spp_mirror the flow needs',
  'vf-missing': 'spp-ctl does not list an spp_vf the flow uses',
  'mirror-components-missing': 'the spp_mirror lacks a mirror_<k> component the flow needs',
  'sppctl-error': "the flow's last spp-ctl error, while the agent retries or after it gave up",
  'tap-error': 'tap_status = error: <reason>: the agent gave up on the flow and says why',
  applying: "the agent is sending the flow's spp-ctl commands",
  'rings-differ': 'the vfs or the mirror do not hold the rings where the plan puts them (the steps still needed are listed)',
  'not-reported': 'tap_status is not up',
  up: 'tap_status = up and everything checked agrees (the text says what was not checked)',
} as const;

export type TapVerdict = keyof typeof TAP_VERDICTS;

export interface TapExplainInput extends Omit<ExplainInput, 'portId'> {
  readonly flowId: string;
  /** bind_port keys of the flow's ports on every host (a port bound elsewhere is named); undefined when not read. */
  readonly bindings?: ReadonlyArray<[string, StoredValue]>;
}

export interface TapExplanation {
  readonly host: string;
  readonly tapFlowId: string;
  readonly revision: number;
  /** true only when the flow is up and consistent (the CLI exits 0). */
  readonly up: boolean;
  readonly verdict: TapVerdict;
  readonly sentences: readonly Sentence[];
  readonly unchecked?: readonly string[];
}

export function explainTap(input: TapExplainInput): TapExplanation {
  return explainTaps(input, [input.flowId])[0]!;
}

/** Several flows of one host (the page, the report): the keys are read into one store. */
export function explainTaps(input: Omit<TapExplainInput, 'flowId'>, flowIds: readonly string[]): TapExplanation[] {
  const store = new HostStore(input.host);
  store.reset(input.entries, input.revision);
  return flowIds.map((flowId) => explainOne({ ...input, flowId }, store));
}

function explainOne(input: TapExplainInput, store: HostStore): TapExplanation {
  const { host, flowId } = input;
  const flowKeys = store.tapFlows().find((f) => f.flowId === flowId) ?? { flowId };
  const owners = store.mirrorOwners();
  const claimed = [...owners].filter(([k, v]) => {
    const o = decodeMirrorOwner(keys.mirror(host, k), v.value);
    return o.ok && !o.value.free && o.value.tapFlowId === flowId;
  });
  const keyFacts = [
    fact(keys.tapInfo(host, flowId), flowKeys.info),
    fact(keys.tapAction(host, flowId), flowKeys.action),
    fact(keys.tapStatus(host, flowId), flowKeys.status),
    ...claimed.map(([k, v]) => fact(keys.mirror(host, k), v)),
  ];
  const agent = input.agent && !('error' in input.agent) ? input.agent : undefined;
  const tap = agent?.taps?.find((f) => f.flowId === flowId);
  const sentences: Sentence[] = [];
  const say = (text: string, f: readonly string[] = []): void => void sentences.push({ text, facts: f });
  const done = (verdict: TapVerdict, unchecked?: readonly string[]): TapExplanation => {
    if (input.agent && 'error' in input.agent) say(`The agent's ops endpoint at ${input.agent.url} could not be reached: ${input.agent.error}.`);
    if (tap)
      say(
        `The agent's tap machine is in state ${tap.state}${tap.lastError ? `; its last error: ${tap.lastError}` : ''}.`,
        tap.commands.map((c) => `sent: ${c}`),
      );
    else if (agent) say(`The agent runs no machine for tap flow ${flowId}.`);
    if (input.sppctl?.error) say(`spp-ctl at ${input.sppctl.url} could not be asked: ${input.sppctl.error}.`);
    return { host, tapFlowId: flowId, revision: input.revision, up: verdict === 'up', verdict, sentences, ...(unchecked ? { unchecked } : {}) };
  };

  if (input.entries.length === 0 && input.liveness === undefined) {
    say(`Host ${host} is unknown: etcd has no key of it; check the host name (\`spp status\` lists the hosts).`, keyFacts);
    return done('unknown-host');
  }
  if (!flowKeys.info && !flowKeys.action && !flowKeys.status && claimed.length === 0) {
    say(`Tap flow ${flowId} has no keys on host ${host}: the driver has not created it here (or it was deleted and cleaned up).`, keyFacts);
    return done('no-keys');
  }
  if (!flowKeys.info) {
    say(
      flowKeys.action
        ? `Tap flow ${flowId} has tap_action ${preview(flowKeys.action.value)} but no tap_info: the driver writes tap_info first, so a create stopped half-way or the keys were written by hand; the agent does nothing with it.`
        : `Tap flow ${flowId} has no tap_info${claimed.length > 0 ? ` although mirror ${claimed.map(([k]) => k).join(', ')} names it: a create stopped after the claim` : ''}; \`spp tap delete\` cleans it up.`,
      keyFacts,
    );
    return done('no-tap-info');
  }
  if (!flowKeys.action) {
    say(`Tap flow ${flowId} has tap_info but no tap_action yet: the driver writes tap_action = plug next; if it stays so, the create stopped.`, keyFacts);
    return done('no-tap-action');
  }
  const config = store.configuration();
  const unplug = flowKeys.action.value === 'unplug';
  const configKey = keys.configuration(host);
  if (config.state !== 'valid' && !unplug) {
    say(
      config.state === 'missing'
        ? `Host ${host} is not set up: ${configKey} is missing, so there is no spp_vf nor spp_mirror for tap flow ${flowId}.`
        : `Host ${host}'s configuration is invalid, so the agent keeps no layout for tap flow ${flowId}: ${config.errors.join('; ')}.`,
      [fact(configKey, store.get(configKey)), ...keyFacts],
    );
    return done('no-configuration');
  }
  const mirrors = config.state === 'valid' ? config.mirror : undefined;
  if ((!mirrors || mirrors.length === 0) && !unplug) {
    say(`Host ${host} has no spp_mirror: ${configKey} lists no mirror, so no tap can be made there (\`spp config build --mirrors\`).`, [
      fact(configKey, store.get(configKey)),
      ...keyFacts,
    ]);
    return done('no-mirror');
  }
  const layout = config.state === 'valid' ? config.layout : [];
  const info = decodeJson(TapInfo, keys.tapInfo(host, flowId), flowKeys.info.value);
  if (info.ok && !unplug) {
    for (const [role, portId] of [
      ['source', info.value.source_port],
      ['service', info.value.service_port],
    ] as const) {
      const bindKey = keys.bindPort(host, portId);
      if (store.get(bindKey)) continue;
      const elsewhere = (input.bindings ?? []).filter(([k]) => {
        const p = parseKey(k);
        return p?.kind === 'bind_port' && p.portId === portId && p.host !== host;
      });
      say(
        elsewhere.length > 0
          ? `The ${role} port ${portId} is bound on another host (${elsewhere.map(([k]) => parseKey(k)!.host).join(', ')}), not on ${host}: a tap mirrors two ports of one host.`
          : `The ${role} port ${portId} is not bound on host ${host}: ${bindKey} is missing${input.bindings ? ' (and no other host binds it)' : ''}.`,
        [fact(bindKey, undefined), ...elsewhere.map(([k, v]) => fact(k, v)), ...keyFacts],
      );
      return done('port-not-bound');
    }
    for (const [field, k] of [
      ['mirror_in', info.value.mirror_in],
      ['mirror_out', info.value.mirror_out],
    ] as const) {
      if (k === null) continue;
      const ownerKey = keys.mirror(host, k);
      const raw = owners.get(k);
      const owner = raw ? decodeMirrorOwner(ownerKey, raw.value) : undefined;
      if (owner?.ok && !owner.value.free && owner.value.tapFlowId === flowId) continue;
      const why = !raw
        ? `${ownerKey} is missing`
        : !owner?.ok
          ? `${ownerKey} is not valid`
          : owner.value.free
            ? `${ownerKey} is None (free)`
            : `${ownerKey} names tap flow ${owner.value.tapFlowId}`;
      say(
        `tap_info's ${field} names mirror ${k}, but the mirror is not claimed by tap flow ${flowId}: ${why}. The driver claims a mirror before it writes tap_info.`,
        [fact(ownerKey, raw), ...keyFacts],
      );
      return done('mirror-not-claimed');
    }
  }
  const facts: TapFacts = {
    host,
    layout,
    mirrors,
    mirrorOwners: owners,
    port: (portId) => {
      const k = store.portKeys(portId);
      return { ...(k.bindPort ? { bindPort: k.bindPort } : {}), ...(k.action ? { action: k.action } : {}) };
    },
  };
  const intent: TapIntent = tapIntents(facts, store.tapFlows()).get(flowId) ?? { kind: 'idle', note: 'no keys' };
  if (intent.kind === 'invalid') {
    // alone it would be carried out: another flow holds what it asks for
    const alone = tapIntents(facts, [flowKeys]).get(flowId);
    const conflict = alone?.kind === 'plug';
    say(`Tap flow ${flowId} cannot be made${conflict ? '' : ', and retrying will not fix it'}: ${intent.reason}.`, [
      ...keyFacts,
      ...(flowKeys.status ? [] : [`the agent writes ${keys.tapStatus(host, flowId)} = error: <the reason>`]),
    ]);
    return done(conflict ? 'conflict' : 'invalid-input');
  }
  if (input.liveness !== 'unknown' && input.liveness === undefined) {
    say(`The agent of host ${host} is down: the liveness key ${keys.agent(host)} is missing, so nothing acts on tap flow ${flowId}.`, [
      `${keys.agent(host)}: no such key`,
      ...keyFacts,
    ]);
    return done('agent-down');
  }
  if (intent.kind === 'unplug') {
    say(
      intent.cause === 'port'
        ? `Tap flow ${flowId} is being removed: a port it uses is being unplugged, and the agent removes the flow first.`
        : `Tap flow ${flowId} is being removed: tap_action is unplug; the agent puts the rings back, frees mirror ${intent.mirrorIds.join(', ') || '(none)'} and deletes the flow's keys.`,
      keyFacts,
    );
    return done('unplugging');
  }
  if (intent.kind !== 'plug') {
    say(`Tap flow ${flowId} asks for nothing yet: ${intent.note}.`, keyFacts);
    return done('no-tap-action');
  }
  return explainPlug(input, intent.flow, keyFacts, tap?.tags ?? [], tap?.lastError, say, done, flowKeys.status);
}

type Say = (text: string, f?: readonly string[]) => void;

function explainPlug(
  input: TapExplainInput,
  flow: TapFlow,
  keyFacts: readonly string[],
  tags: readonly TapTag[],
  lastError: string | undefined,
  say: Say,
  done: (v: TapVerdict, unchecked?: readonly string[]) => TapExplanation,
  status: StoredValue | undefined,
): TapExplanation {
  const { flowId } = input;
  const agent = input.agent && !('error' in input.agent) ? input.agent : undefined;
  const is = (tag: TapTag): boolean => tags.includes(tag);
  const where = `${flow.legs.map((l) => `${l.dir} via ${l.component}`).join(' and ')}: source vhost:${flow.source.vhostId} (spp_vf ${flow.source.secId}), service vhost:${flow.service.vhostId} (spp_vf ${flow.service.secId})`;
  const facts = [...keyFacts, ...flow.legs.map((l) => redirectText(flow, l))];
  const processes = input.sppctl?.processes;
  const mirrorSec = flow.mirrorSecId;
  const listed = (type: string, id: number): boolean => processes?.some((p) => p.type === type && 'client-id' in p && p['client-id'] === id) === true;
  const listing = (): string => processes?.map((p) => ('client-id' in p ? `${p.type}:${p['client-id']}` : p.type)).join(', ') || 'nothing';
  if (processes && !listed('mirror', mirrorSec)) {
    say(`The spp_mirror (client id ${mirrorSec}) that tap flow ${flowId} needs is not running: spp-ctl's GET /v1/processes lists ${listing()}.`, [
      `GET ${input.sppctl!.url}/v1/processes: ${listing()}`,
      ...(agent?.mirror ? [`the agent's mirror: ${agent.mirror.state}${agent.mirror.lastError ? ` (${agent.mirror.lastError})` : ''}`] : []),
      ...facts,
    ]);
    return done('mirror-not-running');
  }
  const vfIds = [...new Set([flow.source.secId, flow.service.secId])];
  const absent = processes ? vfIds.filter((id) => !listed('vf', id)) : [];
  if (absent.length > 0) {
    say(`spp_vf ${absent.join(', ')}, which tap flow ${flowId} uses, is not running: spp-ctl's GET /v1/processes lists ${listing()}.`, facts);
    return done('vf-missing');
  }
  const askedMirror = input.sppctl?.mirrors?.find((m) => m['client-id'] === mirrorSec);
  const mirror: MirrorStatus | undefined = askedMirror ?? (agent?.mirror?.secId === mirrorSec ? agent.mirror.status : undefined);
  const mirrorSource = askedMirror ? `GET ${input.sppctl!.url}/v1/mirrors/${mirrorSec}` : "the agent's cached status of the spp_mirror";
  const mirrorFact = (m: MirrorStatus): string =>
    `${mirrorSource}: ${
      m.components
        .map((c) =>
          'name' in c
            ? `${c.name} (core ${c.core}) rx ${c.rx_port.map((p) => p.port).join(',') || '-'} tx ${c.tx_port.map((p) => p.port).join(',') || '-'}`
            : '',
        )
        .filter(Boolean)
        .join('; ') || 'no component'
    }`;
  if (mirror) {
    const missing = missingMirrorComponents(flow, mirror);
    if (missing.length > 0) {
      say(
        `The spp_mirror ${mirrorSec} lacks ${missing.join(', ')}, which tap flow ${flowId} needs (the agent starts the configured components when the mirror comes up).`,
        [mirrorFact(mirror), ...facts],
      );
      return done('mirror-components-missing');
    }
  }
  if ((is('retrying') || is('failed')) && lastError) {
    say(
      `The last spp-ctl error for tap flow ${flowId}: ${lastError}${is('retrying') ? ' (the agent retries with backoff)' : ' (the agent gave up; tap_status says so)'}.`,
      facts,
    );
    return done('sppctl-error');
  }
  if (status?.value.startsWith('error')) {
    say(`The agent reported tap flow ${flowId} failed: tap_status = ${preview(status.value)}.`, facts);
    return done('tap-error');
  }
  if (is('running') || is('deciding')) {
    say(`Tap flow ${flowId} is being made: the agent is sending its spp-ctl commands (${where}).`, facts);
    return done('applying');
  }
  const vfs = input.sppctl?.vfs ?? agent?.nics.flatMap((n) => (n.status ? [n.status] : [])) ?? [];
  const vfsKnown = vfIds.every((id) => vfs.some((v) => v['client-id'] === id));
  const askedVfs = vfIds.every((id) => input.sppctl?.vfs?.some((v) => v['client-id'] === id));
  if (mirror && vfsKnown) {
    const steps = missingTapSteps(flow, tapObserved(vfs, mirror));
    if (steps.length > 0) {
      say(
        `The rings of tap flow ${flowId} are not where the plan puts them (${where}): ${steps.length} step(s) of the plan do not hold${askedMirror && askedVfs ? '' : " (in the agent's cached statuses)"}.`,
        [...steps.map((s) => `still needed: ${s}`), mirrorFact(mirror), ...facts],
      );
      return done('rings-differ');
    }
  }
  if (status?.value !== 'up') {
    say(
      `Tap flow ${flowId} is not reported up: tap_status is ${status ? preview(status.value) : 'missing'}; the agent writes up once the rings are in place.`,
      facts,
    );
    return done('not-reported');
  }
  const unchecked = [
    ...(mirror && vfsKnown ? [] : ['the rings in the vfs and the mirror (neither spp-ctl nor the agent gave their statuses; give --spp-ctl or --ops)']),
    ...(askedMirror && askedVfs ? [] : mirror && vfsKnown ? ["spp-ctl itself (the agent's cached statuses were checked; give --spp-ctl)"] : []),
    ...(agent || input.liveness === 'unknown' ? [] : ["the agent's own view (give --ops or SPP_OPS)"]),
  ];
  say(`Tap flow ${flowId} is up: tap_status = up (${where})${mirror && vfsKnown ? ', and every ring is where the plan puts it' : ''}.`, [
    ...(mirror ? [mirrorFact(mirror)] : []),
    ...facts,
  ]);
  if (unchecked.length > 0) say(`Not checked: ${unchecked.join('; ')}.`);
  return done('up', unchecked);
}
