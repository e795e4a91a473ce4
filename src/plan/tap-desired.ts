/**
 * The desired state of a tap flow (TaaS, upstream-final 1b): what its keys
 * (tap_info, tap_action), its two ports' keys (bind_port, action), the
 * configuration's `mirror` list and the NIC layouts ask for. Pure: the
 * agent hands in the raw values, this decides `plug`, `unplug` or `invalid`
 * (reported as `tap_status = error: <reason>`, naming the key or field).
 */
import { BindPort, type Decoded, decodeJson, decodeMirrorOwner, decodeText, TapAction, TapInfo } from '../protocol/codecs';
import type { MirrorDecl } from '../protocol/configuration';
import { keys } from '../protocol/keys';
import { type NicLayout, nicOfVhost, portNames } from '../protocol/layout';

/** A key's value with its revision (the agent's store hands these in). */
export interface RawValue {
  readonly value: string;
  readonly modRevision: number;
}

/** One flow's own keys. */
export interface TapFlowKeys {
  readonly flowId: string;
  readonly info?: RawValue;
  readonly action?: RawValue;
  readonly status?: RawValue;
}

export interface TapFacts {
  readonly host: string;
  readonly layout: readonly NicLayout[];
  /** The configuration's `mirror` list; undefined when it has none (no spp_mirror configured). */
  readonly mirrors: readonly MirrorDecl[] | undefined;
  /** mirror/<host>/<k> values by k. */
  readonly mirrorOwners: ReadonlyMap<number, RawValue>;
  /** A port's bind_port and action keys. */
  readonly port: (portId: string) => { readonly bindPort?: RawValue; readonly action?: RawValue };
}

/** One end of a flow: a port's vhost and the two forwarders around it. */
export interface TapEnd {
  readonly portId: string;
  readonly vhostId: number;
  readonly secId: number;
  /** The component feeding vhost:v (forward_<v>_tx, started as merge) and the ring it reads (ring:2v). */
  readonly feeder: string;
  readonly toVm: string;
  /** The component draining vhost:v (forward_<v>_rx) and the ring it writes (ring:2v+1). */
  readonly drain: string;
  readonly fromVm: string;
}

export type TapDirection = 'IN' | 'OUT';

/** One mirrored direction: a mirror component and its two rings. */
export interface TapLeg {
  readonly dir: TapDirection;
  readonly mirrorId: number;
  /** mirror_<k>. */
  readonly component: string;
  readonly core: number;
  /** ports[0] of the mirror entry (RA): to the service port. */
  readonly serviceRing: string;
  /** ports[1] of the mirror entry (RB): the source side. */
  readonly sourceRing: string;
}

export interface TapFlow {
  readonly flowId: string;
  readonly source: TapEnd;
  readonly service: TapEnd;
  /** The spp_mirror's client id: the number of NICs + 1. */
  readonly mirrorSecId: number;
  /** IN first, as upstream runs them. */
  readonly legs: readonly TapLeg[];
}

export type TapIntent =
  /** No tap_action (a create half-way), or plug before tap_info: nothing to do yet. */
  | { readonly kind: 'idle'; readonly note: string }
  | { readonly kind: 'plug'; readonly flow: TapFlow }
  /**
   * Remove the flow: its tap_action is unplug, or a port it uses is being
   * unplugged (`cause: 'port'`). `flow` is undefined when the keys do not
   * say where it is (only the keys are removed); `mirrorIds` are freed.
   */
  | { readonly kind: 'unplug'; readonly flow?: TapFlow; readonly mirrorIds: readonly number[]; readonly cause: 'tap_action' | 'port' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The spp_mirror of a host: client id M+1 (devstack), M being its NICs. */
export function mirrorSecIdOf(layout: readonly NicLayout[]): number {
  return layout.length + 1;
}

export const mirrorComponentName = (k: number): string => `mirror_${k}`;

/** The mirror ids a decoded tap_info names. */
function mirrorIdsOf(info: TapInfo): number[] {
  return [info.mirror_in, info.mirror_out].filter((k): k is number => k !== null);
}

/** Where a port's vhost is and its forwarders, or why a tap cannot use it. */
function endOf(facts: TapFacts, role: 'source' | 'service', portId: string): TapEnd | string {
  const bindKey = keys.bindPort(facts.host, portId);
  const raw = facts.port(portId).bindPort;
  if (!raw) return `${bindKey} is missing: the ${role} port is not bound on this host`;
  const bind: Decoded<BindPort> = decodeJson(BindPort, bindKey, raw.value);
  if (!bind.ok) return `the ${role} port's binding is not valid: ${bind.error}`;
  const v = bind.value.vhost_id;
  const nic = nicOfVhost(facts.layout, v);
  if (!nic) return `${bindKey}: field vhost_id: vhost ${v} is on no NIC of the configuration`;
  const vhost = portNames.vhost(v);
  const feeder = nic.components.find((c) => c.tx.includes(vhost));
  const drain = nic.components.find((c) => c.rx.includes(vhost));
  const toVm = feeder?.rx[0];
  const fromVm = drain?.tx[0];
  // upstream's in_comp/out_comp: without forwarders there is no ring to move (TaaS unsupported there)
  if (!feeder || feeder.type !== 'merge' || feeder.rx.length !== 1 || !toVm?.startsWith('ring:'))
    return `the ${role} port's ${vhost} (NIC ${nic.index}) has no forwarder reading a ring into it (a layout without forwarders: TaaS needs forward_${v}_tx)`;
  if (!drain || drain.type !== 'forward' || drain.tx.length !== 1 || !fromVm?.startsWith('ring:'))
    return `the ${role} port's ${vhost} (NIC ${nic.index}) has no forwarder writing it to a ring (a layout without forwarders: TaaS needs forward_${v}_rx)`;
  return { portId, vhostId: v, secId: nic.secId, feeder: feeder.name, toVm, drain: drain.name, fromVm };
}

function legOf(facts: TapFacts, flowId: string, dir: TapDirection, k: number): TapLeg | string {
  const field = dir === 'IN' ? 'mirror_in' : 'mirror_out';
  const where = `${keys.tapInfo(facts.host, flowId)}: field ${field}`;
  const mirrors = facts.mirrors ?? [];
  const decl = mirrors[k];
  if (!decl) return `${where}: mirror ${k} is not configured (${keys.configuration(facts.host)} lists ${mirrors.length} mirror(s))`;
  const [serviceRing, sourceRing] = decl.ports;
  if (decl.ports.length !== 2 || !serviceRing?.startsWith('ring:') || !sourceRing?.startsWith('ring:'))
    return `${keys.configuration(facts.host)}: field mirror.${k}.ports: must be two rings [service side, source side], got ${JSON.stringify(decl.ports)}`;
  const ownerKey = keys.mirror(facts.host, k);
  const ownerRaw = facts.mirrorOwners.get(k);
  if (ownerRaw) {
    const owner = decodeMirrorOwner(ownerKey, ownerRaw.value);
    if (owner.ok && !owner.value.free && owner.value.tapFlowId !== flowId) return `${where}: ${ownerKey} is claimed by tap flow ${owner.value.tapFlowId}`;
  }
  return { dir, mirrorId: k, component: mirrorComponentName(k), core: decl.core, serviceRing, sourceRing };
}

/** The flow a valid tap_info describes, or why it cannot be carried out. */
function flowOf(facts: TapFacts, flowId: string, info: TapInfo): TapFlow | string {
  const infoKey = keys.tapInfo(facts.host, flowId);
  if (!facts.mirrors || facts.mirrors.length === 0)
    return `${keys.configuration(facts.host)} has no mirror list: no spp_mirror is configured on this host (spp config build --mirrors)`;
  if (info.mirror_in === null && info.mirror_out === null) return `${infoKey}: fields mirror_in and mirror_out are both null: nothing to mirror`;
  if (info.mirror_in !== null && info.mirror_in === info.mirror_out)
    return `${infoKey}: fields mirror_in and mirror_out name the same mirror ${info.mirror_in}: each direction needs its own`;
  const source = endOf(facts, 'source', info.source_port);
  if (typeof source === 'string') return `${infoKey}: field source_port: ${source}`;
  const service = endOf(facts, 'service', info.service_port);
  if (typeof service === 'string') return `${infoKey}: field service_port: ${service}`;
  const legs: TapLeg[] = [];
  for (const [dir, k] of [
    ['IN', info.mirror_in],
    ['OUT', info.mirror_out],
  ] as const) {
    if (k === null) continue;
    const leg = legOf(facts, flowId, dir, k);
    if (typeof leg === 'string') return leg;
    legs.push(leg);
  }
  return { flowId, source, service, mirrorSecId: mirrorSecIdOf(facts.layout), legs };
}

interface Single {
  readonly intent: TapIntent;
  /** tap_info's revision: the earlier flow keeps a contested source direction or mirror. */
  readonly since: number;
}

function single(facts: TapFacts, flow: TapFlowKeys): Single {
  const since = flow.info?.modRevision ?? Number.MAX_SAFE_INTEGER;
  const idle = (note: string): Single => ({ intent: { kind: 'idle', note }, since });
  if (!flow.action) return idle(flow.info ? 'tap_info without tap_action (a create half-way)' : 'no tap_action');
  const action = decodeText(TapAction, keys.tapAction(facts.host, flow.flowId), flow.action.value);
  if (!action.ok) return { intent: { kind: 'invalid', reason: action.error }, since };
  const infoKey = keys.tapInfo(facts.host, flow.flowId);
  const info = flow.info ? decodeJson(TapInfo, infoKey, flow.info.value) : undefined;
  if (action.value === 'plug') {
    if (!info) return idle('tap_action plug without tap_info');
    if (!info.ok) return { intent: { kind: 'invalid', reason: info.error }, since };
    const resolved = flowOf(facts, flow.flowId, info.value);
    if (typeof resolved === 'string') return { intent: { kind: 'invalid', reason: resolved }, since };
    // a port being unplugged takes its tap flows with it (upstream's _unplug_tap_port)
    const leaving = [resolved.source.portId, resolved.service.portId].some((p) => facts.port(p).action?.value === 'unplug');
    if (leaving) return { intent: { kind: 'unplug', flow: resolved, mirrorIds: resolved.legs.map((l) => l.mirrorId), cause: 'port' }, since };
    return { intent: { kind: 'plug', flow: resolved }, since };
  }
  if (!info?.ok) return { intent: { kind: 'unplug', mirrorIds: [], cause: 'tap_action' }, since };
  const resolved = flowOf(facts, flow.flowId, info.value);
  const mirrorIds = mirrorIdsOf(info.value);
  return { intent: { kind: 'unplug', ...(typeof resolved === 'string' ? {} : { flow: resolved }), mirrorIds, cause: 'tap_action' }, since };
}

/**
 * Every flow's intent. Two flows cannot mirror one direction of one source
 * port (spp_mirror refuses the ring a second time: `bad value(port rxtx)`,
 * upstream crash-loops), nor share a mirror: the flow whose tap_info came
 * first keeps it, a flow being removed keeps it until it is gone, the later
 * one is `invalid` naming the other.
 */
export function tapIntents(facts: TapFacts, flows: readonly TapFlowKeys[]): Map<string, TapIntent> {
  const singles = flows.map((f) => [f.flowId, single(facts, f)] as const);
  const out = new Map<string, TapIntent>(singles.map(([id, s]) => [id, s.intent]));
  const holders = singles
    .filter(([, s]) => (s.intent.kind === 'plug' || s.intent.kind === 'unplug') && s.intent.flow !== undefined)
    .sort(([a, x], [b, y]) => rank(x) - rank(y) || x.since - y.since || a.localeCompare(b));
  const directions = new Map<string, string>();
  const mirrors = new Map<number, string>();
  for (const [id, s] of holders) {
    const flow = (s.intent as { flow: TapFlow }).flow;
    let conflict: string | undefined;
    for (const leg of flow.legs) {
      const dirKey = `${flow.source.vhostId}/${leg.dir}`;
      const byDir = directions.get(dirKey);
      const byMirror = mirrors.get(leg.mirrorId);
      if (byDir !== undefined)
        conflict = `${keys.tapInfo(facts.host, id)}: tap flow ${byDir} already mirrors ${leg.dir} of the source port ${flow.source.portId} (vhost ${flow.source.vhostId}); spp_mirror takes a port in one direction once`;
      else if (byMirror !== undefined)
        conflict = `${keys.tapInfo(facts.host, id)}: field ${leg.dir === 'IN' ? 'mirror_in' : 'mirror_out'}: mirror ${leg.mirrorId} is used by tap flow ${byMirror}`;
      if (conflict) break;
    }
    if (conflict && s.intent.kind === 'plug') {
      out.set(id, { kind: 'invalid', reason: conflict });
      continue;
    }
    for (const leg of flow.legs) {
      directions.set(`${flow.source.vhostId}/${leg.dir}`, id);
      mirrors.set(leg.mirrorId, id);
    }
  }
  return out;
}

/** Flows being removed hold what they use until they are gone. */
function rank(s: Single): number {
  return s.intent.kind === 'unplug' ? 0 : 1;
}

/** Whether two intents ask for the same thing (JSON: few flows, and the shapes are plain data). */
export function sameTapIntent(a: TapIntent, b: TapIntent): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** The ports a flow's intent uses (the port unplug cascade waits for them). */
export function portsOfTap(intent: TapIntent): string[] {
  return (intent.kind === 'plug' || intent.kind === 'unplug') && intent.flow ? [intent.flow.source.portId, intent.flow.service.portId] : [];
}

/** The processes a flow's run needs usable: its vfs and the mirror. */
export function processesOfTap(intent: TapIntent): { readonly vfs: readonly number[]; readonly mirror?: number } {
  if ((intent.kind !== 'plug' && intent.kind !== 'unplug') || !intent.flow) return { vfs: [] };
  const f = intent.flow;
  return { vfs: [...new Set([f.source.secId, f.service.secId])], mirror: f.mirrorSecId };
}

/** A flow's intent in the words of its log and view. */
export function describeTapIntent(intent: TapIntent): string {
  switch (intent.kind) {
    case 'idle':
      return `idle (${intent.note})`;
    case 'invalid':
      return `invalid: ${intent.reason}`;
    case 'plug':
    case 'unplug': {
      const f = intent.flow;
      const what = intent.kind === 'unplug' && intent.cause === 'port' ? 'unplug (a port it uses is unplugged)' : intent.kind;
      if (!f) return `${what} (keys only)`;
      const legs = f.legs.map((l) => `${l.dir} via mirror ${l.mirrorId}`).join(', ');
      return `${what} ${legs}: source vhost ${f.source.vhostId} -> service vhost ${f.service.vhostId}`;
    }
  }
}
