/**
 * The commands the agent sends to spp-ctl, as data. The planner produces
 * them, the client turns them into HTTP requests, logs and the replay tool
 * print them in spp_vf's own text form.
 */
import type { ClassifierBody, ComponentStartBody, MirrorComponentStartBody, PortBody, PortVlanBody } from './wire';

export type SppCommand =
  | { readonly op: 'component_start'; readonly secId: number; readonly name: string; readonly core: number; readonly type: ComponentStartBody['type'] }
  | { readonly op: 'component_stop'; readonly secId: number; readonly name: string }
  | {
      readonly op: 'port_attach';
      readonly secId: number;
      readonly component: string;
      readonly port: string;
      readonly dir: 'rx' | 'tx';
      readonly vlan?: Exclude<PortVlanBody, { operation: 'none' }>;
    }
  | { readonly op: 'port_detach'; readonly secId: number; readonly component: string; readonly port: string; readonly dir: 'rx' | 'tx' }
  | {
      readonly op: 'classifier_add' | 'classifier_del';
      readonly secId: number;
      readonly mac: string;
      readonly port: string;
      /** Present for a VLAN entry. */
      readonly vlan?: number;
    };

/**
 * A command to an spp_mirror (TaaS, upstream-final section 2): a component
 * start (type `mirror`, the only one) and port moves, never a VLAN setting.
 */
export type MirrorCommand =
  | { readonly op: 'mirror_start'; readonly secId: number; readonly name: string; readonly core: number }
  | {
      readonly op: 'mirror_attach' | 'mirror_detach';
      readonly secId: number;
      readonly component: string;
      readonly port: string;
      readonly dir: 'rx' | 'tx';
    };

/** A command to either kind of secondary process. */
export type ProcessCommand = SppCommand | MirrorCommand;

export function isMirrorCommand(cmd: ProcessCommand): cmd is MirrorCommand {
  return cmd.op === 'mirror_start' || cmd.op === 'mirror_attach' || cmd.op === 'mirror_detach';
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: ComponentStartBody | MirrorComponentStartBody | PortBody | ClassifierBody;
}

/** The REST request that carries a mirror command (upstream-final section 2). */
export function toMirrorRequest(cmd: MirrorCommand): HttpRequest {
  const base = `/v1/mirrors/${cmd.secId}`;
  if (cmd.op === 'mirror_start') return { method: 'POST', path: `${base}/components`, body: { name: cmd.name, core: cmd.core, type: 'mirror' } };
  return {
    method: 'PUT',
    path: `${base}/components/${encodeURIComponent(cmd.component)}/ports`,
    body: { action: cmd.op === 'mirror_attach' ? 'attach' : 'detach', port: cmd.port, dir: cmd.dir },
  };
}

/** spp_mirror's text form of a command, e.g. `mirror 3: port add ring:4 tx mirror_0`. */
export function describeMirrorCommand(cmd: MirrorCommand): string {
  const prefix = `mirror ${cmd.secId}: `;
  if (cmd.op === 'mirror_start') return `${prefix}component start ${cmd.name} ${cmd.core} mirror`;
  return `${prefix}port ${cmd.op === 'mirror_attach' ? 'add' : 'del'} ${cmd.port} ${cmd.dir} ${cmd.component}`;
}

/** The request of a command to either kind of process. */
export function toProcessRequest(cmd: ProcessCommand): HttpRequest {
  return isMirrorCommand(cmd) ? toMirrorRequest(cmd) : toRequest(cmd);
}

/** The text form of a command to either kind of process. */
export function describeProcessCommand(cmd: ProcessCommand): string {
  return isMirrorCommand(cmd) ? describeMirrorCommand(cmd) : describeCommand(cmd);
}

/** The REST request that carries a command (spec section 3). */
export function toRequest(cmd: SppCommand): HttpRequest {
  const base = `/v1/vfs/${cmd.secId}`;
  switch (cmd.op) {
    case 'component_start':
      return { method: 'POST', path: `${base}/components`, body: { name: cmd.name, core: cmd.core, type: cmd.type } };
    case 'component_stop':
      return { method: 'DELETE', path: `${base}/components/${encodeURIComponent(cmd.name)}` };
    case 'port_attach':
      return {
        method: 'PUT',
        path: `${base}/components/${encodeURIComponent(cmd.component)}/ports`,
        body: { action: 'attach', port: cmd.port, dir: cmd.dir, ...(cmd.vlan ? { vlan: cmd.vlan } : {}) },
      };
    case 'port_detach':
      return { method: 'PUT', path: `${base}/components/${encodeURIComponent(cmd.component)}/ports`, body: { action: 'detach', port: cmd.port, dir: cmd.dir } };
    case 'classifier_add':
    case 'classifier_del':
      return {
        method: 'PUT',
        path: `${base}/classifier_table`,
        body: {
          action: cmd.op === 'classifier_add' ? 'add' : 'del',
          type: cmd.vlan === undefined ? 'mac' : 'vlan',
          mac_address: cmd.mac,
          port: cmd.port,
          ...(cmd.vlan === undefined ? {} : { vlan: cmd.vlan }),
        },
      };
  }
}

/** spp_vf's text form of a command, e.g. `classifier_table add mac fa:16:3e:a0:da:db ring:0`. */
export function describeCommand(cmd: SppCommand): string {
  const prefix = `vf ${cmd.secId}: `;
  switch (cmd.op) {
    case 'component_start':
      return `${prefix}component start ${cmd.name} ${cmd.core} ${cmd.type}`;
    case 'component_stop':
      return `${prefix}component stop ${cmd.name}`;
    case 'port_attach': {
      const vlan = cmd.vlan?.operation === 'add' ? ` add_vlantag ${cmd.vlan.id} ${cmd.vlan.pcp}` : cmd.vlan?.operation === 'del' ? ' del_vlantag' : '';
      return `${prefix}port add ${cmd.port} ${cmd.dir} ${cmd.component}${vlan}`;
    }
    case 'port_detach':
      return `${prefix}port del ${cmd.port} ${cmd.dir} ${cmd.component}`;
    case 'classifier_add':
    case 'classifier_del': {
      const action = cmd.op === 'classifier_add' ? 'add' : 'del';
      return cmd.vlan === undefined
        ? `${prefix}classifier_table ${action} mac ${cmd.mac} ${cmd.port}`
        : `${prefix}classifier_table ${action} vlan ${cmd.vlan} ${cmd.mac} ${cmd.port}`;
    }
  }
}
