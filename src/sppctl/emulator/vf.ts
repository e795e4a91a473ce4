/**
 * One spp_vf or spp_mirror process (spec section 6; upstream-final section 2:
 * spp_mirror is built from the same decoder and runner, so one rule core
 * serves both, told apart by `kind`): management tables that commands
 * change, an internal flush that pushes changes to the worker-side copy, and
 * the status built from that copy. Failures follow the C code: no rollback,
 * a missing ring wedges the process, a component on the master lcore hangs it.
 */

import { behaviourOf, isClassifierType, type ReleaseBehaviour, type SppRelease } from '../releases';
import type { VfStatus } from '../wire';
import {
  type Command,
  type ComponentType,
  componentTypes,
  DEFAULT_MAC,
  type DecodeContext,
  type Dir,
  decodeCommand,
  encodeSpp,
  errorReply,
  formatMac,
  PORTS_PER_TYPE,
  type PortRef,
  type PortType,
  type ProcessKind,
  portName,
  type SppJson,
  SUCCESS_REPLY,
  successReply,
  VLAN_ID_MAX,
} from './textproto';

export const COMPONENT_SLOTS = 128;
/** SPP_PORT_ABILITY_MAX */
export const ABILITY_SLOTS = 4;

export interface VfOptions {
  readonly secId: number;
  /** spp_vf (default) or spp_mirror: the component types, port limits and status shape. */
  readonly kind?: ProcessKind;
  /** EAL lcores; the lowest is the master, the others are workers. */
  readonly lcores: readonly number[];
  /** phy ports DPDK found at start-up. */
  readonly phyPorts: number;
  /** Rings the primary created (`-n`): ring:N exists for N below it. */
  readonly rings: number;
  /** Intended behaviour: an error reply where the real process hangs. */
  readonly lenient?: boolean;
  /** Attaching a missing ring wedges the process (observed); otherwise the attach just fails. */
  readonly wedgeOnMissingRing?: boolean;
  /** The SPP release modelled (default 18.08). */
  readonly release?: SppRelease;
  /** Any types share a core, a classifier included, whatever the release (18.08.2 and later do by themselves). */
  readonly mixedCoreTypes?: boolean;
}

interface Ability {
  op: 'add' | 'del';
  dir: Dir;
  vid: number;
  pcp: number;
}

interface PortState {
  added: boolean;
  pmd: boolean;
  vid: number;
  mac: bigint;
  abilities: Ability[];
}

interface Component {
  readonly name: string;
  readonly type: ComponentType;
  readonly core: number;
  rx: string[];
  tx: string[];
}

type PortJson = { port: string; vlan: { operation: 'none' | 'add' | 'del'; id: number; pcp: number } };
interface TableEntry {
  vid: number;
  mac: bigint;
  port: string;
}
/** What a worker runs: the copy status reads. */
interface Pushed {
  readonly core: number;
  readonly name: string;
  readonly type: ComponentType;
  readonly rx: PortJson[];
  readonly tx: PortJson[];
  readonly table: TableEntry[];
}

/**
 * Ports a component may hold per direction before the push fails with
 * `error occur` (spp_forward.c; spp_mirror_update: 1 rx, 2 tx). The 32-port
 * table limit applies to every type besides.
 */
const PORT_LIMITS: Readonly<Record<ComponentType, { readonly rx: number; readonly tx: number }>> = {
  forward: { rx: 1, tx: 1 },
  merge: { rx: Number.POSITIVE_INFINITY, tx: 1 },
  classifier_mac: { rx: Number.POSITIVE_INFINITY, tx: Number.POSITIVE_INFINITY },
  classifier: { rx: Number.POSITIVE_INFINITY, tx: Number.POSITIVE_INFINITY },
  mirror: { rx: 1, tx: 2 },
};

const EMPTY_VID = VLAN_ID_MAX;
const ERROR_OCCUR = errorReply('error occur');

export class SppVf {
  readonly secId: number;
  readonly kind: ProcessKind;
  readonly master: number;
  readonly workers: readonly number[];
  private readonly opts: VfOptions;
  readonly behaviour: ReleaseBehaviour;
  private ports = new Map<string, PortState>();
  private components: (Component | undefined)[] = [];
  /** Component slots per core, in start order (management view). */
  private cores = new Map<number, number[]>();
  private changed = new Set<number>();
  private pushed = new Map<number, Pushed>();
  private pushedCores = new Map<number, number[]>();
  private hung = false;

  constructor(opts: VfOptions) {
    const lcores = [...new Set(opts.lcores)].sort((a, b) => a - b);
    if (lcores.length === 0) throw new Error(`vf ${opts.secId}: no lcores`);
    this.opts = opts;
    const behaviour = behaviourOf(opts.release);
    this.behaviour = opts.mixedCoreTypes === undefined ? behaviour : { ...behaviour, mixedCoreTypes: opts.mixedCoreTypes };
    this.secId = opts.secId;
    this.kind = opts.kind ?? 'vf';
    // Field initialisers run before this body: the kind is known only now.
    this.ctx = { ...this.ctx, componentTypes: componentTypes(this.kind, this.behaviour) };
    this.master = lcores[0]!;
    this.workers = lcores.slice(1);
    this.reset();
  }

  /** A restart: components, classifier identities and VLAN settings are gone; phy ports stay. */
  reset(): void {
    this.ports = new Map();
    for (let n = 0; n < this.opts.phyPorts && n < PORTS_PER_TYPE; n++) this.ports.set(`phy:${n}`, this.freshPort(true));
    this.components = new Array<Component | undefined>(COMPONENT_SLOTS).fill(undefined);
    this.cores = new Map();
    this.changed = new Set();
    this.pushed = new Map();
    this.pushedCores = new Map();
    this.hung = false;
  }

  /** True once a command made the process hang (only a restart helps). */
  get isHung(): boolean {
    return this.hung;
  }

  private freshPort(added: boolean): PortState {
    return { added, pmd: added, vid: EMPTY_VID, mac: 0n, abilities: [] };
  }

  private port(p: PortRef | string): PortState {
    const key = typeof p === 'string' ? p : portName(p);
    let s = this.ports.get(key);
    if (!s) {
      s = this.freshPort(false);
      this.ports.set(key, s);
    }
    return s;
  }

  private slotOf(name: string): number {
    return this.components.findIndex((c) => c?.name === name);
  }

  private readonly ctx: DecodeContext = {
    componentExists: (name) => this.slotOf(name) >= 0,
    coreType: (core) => {
      if (this.behaviour.mixedCoreTypes) return undefined;
      const slot = this.cores.get(core)?.[0];
      return slot === undefined ? undefined : this.components[slot]?.type;
    },
    portInUse: (p, dir) => {
      const name = portName(p);
      return this.components.some((c) => c?.[dir].includes(name));
    },
    portAdded: (p) => this.ports.get(portName(p))?.added === true,
    portIdentity: (p) => {
      const s = this.ports.get(portName(p));
      return { vid: s?.vid ?? EMPTY_VID, mac: s?.mac ?? 0n };
    },
  };

  /** spp_vf's raw reply text, or undefined when it does not answer (hang, exit). */
  reply(text: string): string | undefined {
    if (this.hung) return undefined;
    const decoded = decodeCommand(text, this.ctx, this.behaviour);
    if (!decoded.ok) return errorReply(decoded.message);
    return this.run(decoded.command);
  }

  /** The reply as an object, or undefined when spp_vf does not answer. */
  execute(text: string): unknown {
    const raw = this.reply(text);
    return raw === undefined ? undefined : JSON.parse(raw);
  }

  private run(c: Command): string | undefined {
    switch (c.cmd) {
      case 'status':
        return successReply({ info: this.info() });
      case '_get_client_id':
        return encodeSpp({ results: [{ result: 'success' }], client_id: this.secId, process_type: this.kind });
      case 'exit':
        // 18.08.2 answers before it ends (spp 7c7d0fd); the caller ends the process
        return this.behaviour.deleteVf ? SUCCESS_REPLY : undefined;
      case 'component_start':
        return this.componentStart(c.name, c.core, c.type);
      case 'component_stop':
        return this.componentStop(c.name);
      case 'port':
        return this.portCommand(c);
      case 'classifier_table':
        return this.classifier(c);
    }
  }

  private result(ok: boolean): string {
    return ok ? SUCCESS_REPLY : ERROR_OCCUR;
  }

  private componentStart(name: string, core: number, type: ComponentType): string | undefined {
    const isMaster = core === this.master;
    if (!isMaster && !this.workers.includes(core)) return this.result(false);
    // until 18.08.2 a classifier loops forever, so a core it shares never switches
    const secondClassifier = !this.behaviour.mixedCoreTypes && isClassifierType(type) && (this.cores.get(core)?.length ?? 0) > 0;
    if ((isMaster || secondClassifier) && this.opts.lenient) return this.result(false);
    const slot = this.components.indexOf(undefined);
    if (slot < 0) return this.result(false);
    this.components[slot] = { name, type, core, rx: [], tx: [] };
    this.cores.set(core, [...(this.cores.get(core) ?? []), slot]);
    if (isMaster || secondClassifier) {
      // No worker ever acknowledges the core switch: the main loop waits forever.
      this.hung = true;
      return undefined;
    }
    this.changed.add(slot);
    return this.result(this.flush());
  }

  private componentStop(name: string): string {
    const slot = this.slotOf(name);
    if (slot >= 0) {
      const comp = this.components[slot]!;
      this.components[slot] = undefined;
      const left = (this.cores.get(comp.core) ?? []).filter((s) => s !== slot);
      if (left.length > 0) this.cores.set(comp.core, left);
      else this.cores.delete(comp.core);
      this.changed.add(slot);
    }
    return this.result(this.flush());
  }

  private markUsers(port: string, dir: Dir): void {
    this.components.forEach((c, slot) => {
      if (c?.[dir].includes(port)) this.changed.add(slot);
    });
  }

  private portCommand(c: Extract<Command, { cmd: 'port' }>): string {
    const slot = this.slotOf(c.name);
    const comp = this.components[slot]!;
    const key = portName(c.port);
    if (c.action === 'del') {
      comp[c.dir] = comp[c.dir].filter((p) => p !== key);
      this.changed.add(slot);
      const state = this.ports.get(key);
      if (state) state.abilities = state.abilities.filter((a) => a.dir !== c.dir);
      this.markUsers(key, c.dir);
      return this.result(this.flush());
    }
    if (c.port.type === 'phy' && c.port.n >= this.opts.phyPorts) return this.result(false);
    if (c.port.type === 'ring' && c.port.n >= this.opts.rings && !this.wedges()) return this.result(false);
    const state = this.port(c.port);
    if (c.override && comp[c.dir].includes(key)) {
      // spec 6.4: the port's existing add_vlantag setting (the port's settings are shared by rx and tx), in slot order
      const existing = state.abilities.find((a) => a.op === 'add');
      if (!existing || c.vlan?.op !== 'add') return this.result(false);
      existing.vid = c.vlan.vid;
      existing.pcp = c.vlan.pcp;
      this.markUsers(key, existing.dir);
      return this.result(this.flush());
    }
    if (comp[c.dir].length >= PORTS_PER_TYPE) return this.result(false);
    if (c.vlan && state.abilities.length >= ABILITY_SLOTS) return this.result(false);
    comp[c.dir].push(key);
    state.added = true;
    if (c.vlan)
      state.abilities.push(c.vlan.op === 'add' ? { op: 'add', dir: c.dir, vid: c.vlan.vid, pcp: c.vlan.pcp } : { op: 'del', dir: c.dir, vid: 0, pcp: 0 });
    this.changed.add(slot);
    return this.result(this.flush());
  }

  private wedges(): boolean {
    return this.opts.wedgeOnMissingRing ?? !this.opts.lenient;
  }

  private classifier(c: Extract<Command, { cmd: 'classifier_table' }>): string {
    // MAC 0 is spp_vf's "no entry": nothing to store.
    if (c.mac !== 0n) {
      const state = this.port(c.port);
      if (c.action === 'add') {
        state.vid = c.vid;
        state.mac = c.mac;
      } else {
        state.vid = EMPTY_VID;
        state.mac = 0n;
      }
      this.components.forEach((comp, slot) => {
        if (comp && isClassifierType(comp.type) && comp.tx.includes(portName(c.port))) this.changed.add(slot);
      });
    }
    return this.result(this.flush());
  }

  /** The internal flush (spec 6.2): create PMDs, then push changed components. */
  private flush(): boolean {
    let pmdOk = true;
    for (const [key, s] of this.ports) {
      if (!s.added || s.pmd) continue;
      const [type, n] = key.split(':') as [PortType, string];
      if (type === 'ring' && Number(n) >= this.opts.rings) pmdOk = false;
      else s.pmd = true;
    }
    // Nothing is pushed while a PMD is missing; the changes wait (forever).
    if (!pmdOk) return false;
    let ok = true;
    for (const slot of [...this.changed].sort((a, b) => a - b)) {
      this.changed.delete(slot);
      const comp = this.components[slot];
      const prev = this.pushed.get(slot);
      if (!comp) {
        if (prev) {
          this.pushed.delete(slot);
          this.setPushedCore(prev.core, (slots) => slots.filter((s) => s !== slot));
        }
        continue;
      }
      const classifier = isClassifierType(comp.type);
      const limit = PORT_LIMITS[comp.type];
      if (comp.rx.length > limit.rx || comp.tx.length > limit.tx) {
        ok = false;
        continue;
      }
      const rx = classifier ? comp.rx.slice(0, 1) : comp.rx;
      this.pushed.set(slot, {
        core: comp.core,
        name: comp.name,
        type: comp.type,
        rx: rx.map((p) => this.portJson(p, 'rx')),
        tx: comp.tx.map((p) => this.portJson(p, 'tx')),
        table: classifier ? this.tableOf(comp) : [],
      });
      if (!prev) this.setPushedCore(comp.core, (slots) => [...slots, slot]);
    }
    return ok;
  }

  private setPushedCore(core: number, f: (slots: number[]) => number[]): void {
    const next = f(this.pushedCores.get(core) ?? []);
    if (next.length > 0) this.pushedCores.set(core, next);
    else this.pushedCores.delete(core);
  }

  private portJson(port: string, dir: Dir): PortJson {
    const a = this.ports.get(port)?.abilities.find((x) => x.dir === dir);
    const vlan =
      a === undefined
        ? { operation: 'none' as const, id: 0, pcp: 0 }
        : a.op === 'add'
          ? { operation: 'add' as const, id: a.vid, pcp: a.pcp }
          : { operation: 'del' as const, id: 0, pcp: 0 };
    return { port, vlan };
  }

  /** A classifier's table: per VLAN one hash keyed by MAC, where a later tx port overwrites. */
  private tableOf(comp: Component): TableEntry[] {
    const byVlan = new Map<number, Map<bigint, TableEntry>>();
    for (const port of comp.tx) {
      const s = this.ports.get(port);
      if (!s || s.mac === 0n) continue;
      const hash = byVlan.get(s.vid) ?? new Map<bigint, TableEntry>();
      byVlan.set(s.vid, hash);
      hash.set(s.mac, { vid: s.vid, mac: s.mac, port });
    }
    return [...byVlan.keys()]
      .sort((a, b) => a - b)
      .flatMap((vid) => {
        const entries = [...byVlan.get(vid)!.values()];
        return [...entries.filter((e) => e.mac === DEFAULT_MAC), ...entries.filter((e) => e.mac !== DEFAULT_MAC)];
      });
  }

  /** The status as spp-ctl returns it for `GET /v1/vfs/<id>` (spec section 5), or `GET /v1/mirrors/<id>` (no classifier_table). */
  status(): VfStatus {
    const info = this.info() as unknown as {
      phy: number[];
      vhost: number[];
      ring: number[];
      core: VfStatus['components'];
      classifier_table: VfStatus['classifier_table'];
    };
    const base = {
      'client-id': this.secId,
      ports: [...info.phy.map((n) => `phy:${n}`), ...info.vhost.map((n) => `vhost:${n}`), ...info.ring.map((n) => `ring:${n}`)],
      ...(this.behaviour.masterLcore ? { 'master-lcore': this.master } : {}),
      components: info.core,
    };
    // A mirror's status has no classifier_table; callers of a mirror read it as that shape.
    return this.kind === 'mirror' ? (base as VfStatus) : { ...base, classifier_table: info.classifier_table };
  }

  /** spp_vf's `info` object (spec section 5), from the worker-side copy. */
  info(): Record<string, SppJson> {
    const numbers = (type: PortType): number[] =>
      [...this.ports.entries()]
        .filter(([k, s]) => k.startsWith(`${type}:`) && s.pmd)
        .map(([k]) => Number(k.slice(type.length + 1)))
        .sort((a, b) => a - b);
    const core: SppJson[] = this.workers.flatMap((lcore): SppJson[] => {
      const slots = this.pushedCores.get(lcore) ?? [];
      if (slots.length === 0) return [{ core: lcore, type: 'unuse' }];
      return slots.map((slot) => {
        const p = this.pushed.get(slot)!;
        return { core: p.core, name: p.name, type: p.type, rx_port: p.rx, tx_port: p.tx };
      });
    });
    // 18.08.3 added the master lcore to `info` (spp f119826), shared by spp_vf and spp_mirror
    const master: Record<string, SppJson> = this.behaviour.masterLcore ? { 'master-lcore': this.master } : {};
    const base = { 'client-id': this.secId, phy: numbers('phy'), vhost: numbers('vhost'), ring: numbers('ring'), ...master, core };
    if (this.kind === 'mirror') return base;
    const table: SppJson[] = [...this.pushed.entries()]
      .sort(([a], [b]) => a - b)
      .flatMap(([, p]) => p.table)
      .map((e) => {
        const mac = e.mac === DEFAULT_MAC ? 'default' : formatMac(e.mac);
        return e.vid === EMPTY_VID ? { type: 'mac', value: mac, port: e.port } : { type: 'vlan', value: `${e.vid}/${mac}`, port: e.port };
      });
    return { ...base, classifier_table: table };
  }
}
