/**
 * The spp-ctl REST wire format (spec/spp-ctl.md sections 3 and 5): response
 * codecs and the request bodies of every vf endpoint. Shared by the client
 * (which validates what it receives) and the emulator (which produces it).
 */
import * as t from 'io-ts';

export const VlanOperation = t.keyof({ none: null, add: null, del: null });
export type VlanOperation = t.TypeOf<typeof VlanOperation>;

export const VlanSetting = t.type({ operation: VlanOperation, id: t.number, pcp: t.number });
export type VlanSetting = t.TypeOf<typeof VlanSetting>;

export const PortAttachment = t.type({ port: t.string, vlan: VlanSetting });
export type PortAttachment = t.TypeOf<typeof PortAttachment>;

/** `classifier_mac` was renamed `classifier` in SPP 18.08.4; both are read, and sent as the vf accepts (src/agent/release-belief.ts). */
export const ComponentTypeCodec = t.keyof({ forward: null, merge: null, classifier_mac: null, classifier: null });

export const IdleCore = t.type({ core: t.number, type: t.literal('unuse') });
export const RunningComponent = t.type({
  core: t.number,
  name: t.string,
  type: ComponentTypeCodec,
  rx_port: t.array(PortAttachment),
  tx_port: t.array(PortAttachment),
});
export type RunningComponent = t.TypeOf<typeof RunningComponent>;
export const CoreStatus = t.union([IdleCore, RunningComponent]);
export type CoreStatus = t.TypeOf<typeof CoreStatus>;

export const ClassifierEntry = t.type({ type: t.keyof({ mac: null, vlan: null }), value: t.string, port: t.string });
export type ClassifierEntry = t.TypeOf<typeof ClassifierEntry>;

/** GET /v1/vfs/{id} */
export const VfStatus = t.type({
  'client-id': t.number,
  ports: t.array(t.string),
  components: t.array(CoreStatus),
  classifier_table: t.array(ClassifierEntry),
});
export type VfStatus = t.TypeOf<typeof VfStatus>;

/** A component of an spp_mirror: type `mirror` only (upstream-final section 2). */
export const MirrorComponent = t.type({
  core: t.number,
  name: t.string,
  type: t.literal('mirror'),
  rx_port: t.array(PortAttachment),
  tx_port: t.array(PortAttachment),
});
export type MirrorComponent = t.TypeOf<typeof MirrorComponent>;

/** GET /v1/mirrors/{id}: as a vf's status, without a classifier table. */
export const MirrorStatus = t.type({
  'client-id': t.number,
  ports: t.array(t.string),
  components: t.array(t.union([IdleCore, MirrorComponent])),
});
export type MirrorStatus = t.TypeOf<typeof MirrorStatus>;

/** GET /v1/processes */
export const ProcessEntry = t.union([
  t.type({ type: t.literal('primary') }),
  t.type({ type: t.keyof({ vf: null, nfv: null, mirror: null }), 'client-id': t.number }),
]);
export type ProcessEntry = t.TypeOf<typeof ProcessEntry>;
export const Processes = t.array(ProcessEntry);

/** Request bodies. */
export interface ComponentStartBody {
  name: string;
  core: number;
  type: t.TypeOf<typeof ComponentTypeCodec>;
}
/** POST /v1/mirrors/{id}/components: spp_mirror takes no other type. */
export interface MirrorComponentStartBody {
  name: string;
  core: number;
  type: 'mirror';
}
export type PortVlanBody = { operation: 'add'; id: number; pcp: number } | { operation: 'del' } | { operation: 'none' };
export interface PortBody {
  action: 'attach' | 'detach';
  port: string;
  dir: 'rx' | 'tx';
  vlan?: PortVlanBody;
}
export interface ClassifierBody {
  action: 'add' | 'del';
  type: 'mac' | 'vlan';
  mac_address: string;
  port: string;
  vlan?: number;
}

export const NO_VLAN: VlanSetting = { operation: 'none', id: 0, pcp: 0 };

/** True for components (not idle cores). */
export function isRunning(c: CoreStatus): c is RunningComponent {
  return c.type !== 'unuse';
}
