/**
 * The emulator as a library: spp_vf and spp_mirror processes behind
 * spp-ctl's REST handler, one serial command channel per process (spp-ctl's per-process semaphore), and
 * the test hooks (request log, restart, late vfs, latency, injected faults).
 * `handle()` needs no socket; server.ts puts node:http around it.
 */
import type { HostConfiguration } from '../../protocol/configuration';
import { coreMaskBits } from '../../protocol/mappings';
import { behaviourOf, type SppRelease } from '../releases';
import { createRestHandler, type ExchangeResult, RECV_SIZE, type RestRequest, type RestResponse, type SppCtlBackend } from './restapi';
import type { ProcessKind } from './textproto';
import { SppVf } from './vf';

export interface VfSpec {
  readonly secId: number;
  /** Hex core mask: EAL lcores are its bits, the lowest is the master. */
  readonly coreMask: string;
  /** phy ports this vf sees (default: the emulator's phyPorts). */
  readonly phyPorts?: number;
  /** The vf connects to spp-ctl only this long after the emulator starts. */
  readonly appearAfterMs?: number;
}

/** An spp_mirror: its client id shares spp-ctl's table with the vfs' ids. */
export interface MirrorSpec {
  readonly secId: number;
  /** Hex core mask: EAL lcores are its bits, the lowest is the master (SPP_MIRROR's mask). */
  readonly coreMask: string;
  /** The mirror connects to spp-ctl only this long after the emulator starts. */
  readonly appearAfterMs?: number;
}

export interface EmulatorOptions {
  /** The vfs; or derive them from `mappings`. */
  readonly vfs?: readonly VfSpec[];
  /** spp_mirror processes (upstream-final section 2). Default none. */
  readonly mirrors?: readonly MirrorSpec[];
  /** One vf per NIC: sec id = NIC index + 1, lcores from its core mask. */
  readonly mappings?: HostConfiguration;
  /** phy ports DPDK finds (default: NICs in the mappings, else 1). */
  readonly phyPorts?: number;
  /** Rings the primary created (default: 2 x total vhosts of the mappings + 2 per mirror worker core, else 32). */
  readonly rings?: number;
  /** Whether an spp_primary is connected (listed first by /v1/processes). Default true. */
  readonly primary?: boolean;
  /** Intended instead of observed behaviour (spec section 0). */
  readonly lenient?: boolean;
  /** The SPP release modelled (src/sppctl/releases.ts); default 18.08, the spec's 8905dee. */
  readonly sppVersion?: SppRelease;
  /** Default !lenient. */
  readonly statusLimit?: boolean;
  /** Default !lenient. */
  readonly wedgeOnMissingRing?: boolean;
  /**
   * spp_vf 18.08.2 and later: components of different types may share a
   * core, and a classifier may share one. Default: as the release
   * (`sppVersion`) does; 18.08 / 8905dee refuses with `bad value(component type)`.
   */
  readonly mixedCoreTypes?: boolean;
  /**
   * With the status limit: keep the unread rest of a reply of 4096+ bytes in
   * the "socket", so that later replies to that vf are read off by one as by
   * the real spp-ctl (until the vf restarts). Default false: only that one
   * request fails.
   */
  readonly overflowDesync?: boolean;
  /**
   * spp_vf's main-loop period: a command is answered at the vf's next tick.
   * 0 = at once (the default, whatever the release); `release`: the
   * release's own loop (1 s until 18.08.1, sub-ms from 18.08.2 on).
   */
  readonly pollIntervalMs?: number | 'release';
  /** Added to every request. */
  readonly latencyMs?: number;
  /** Clock for poll ticks (default Date.now). */
  readonly now?: () => number;
  /** Keep the request log (default true). The replay never reads it, and it holds every answer. */
  readonly log?: boolean;
}

export interface LogEntry {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly body: string | null;
  /** null while pending, or when the connection was dropped. */
  status: number | null;
  response: string | null;
  dropped?: boolean;
}

export interface FaultSpec {
  /** How many matching requests it applies to (default 1). */
  readonly count?: number;
  /** `error`: 500 `Internal Server Error`; `drop`: the connection is closed without an answer. */
  readonly action?: 'error' | 'drop';
  /** A regular expression the request path must match (default: every path). */
  readonly path?: string;
  readonly method?: string;
  /** `before` (default): the request is not processed; `after`: it is, but its answer is lost. */
  readonly when?: 'before' | 'after';
}

/** The connection was closed without an answer (injected fault). */
export class ConnectionDropped extends Error {
  constructor(readonly request: RestRequest) {
    super(`${request.method} ${request.path}: connection dropped by the emulator`);
  }
}

interface ActiveFault {
  remaining: number;
  readonly action: 'error' | 'drop';
  readonly path?: RegExp;
  readonly method?: string;
  readonly when: 'before' | 'after';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** spp-ctl's end of one vf's socket: commands strictly one after another. */
class VfChannel {
  private tail: Promise<unknown> = Promise.resolve();
  private epoch = 0;
  private waiting = new Set<(r: ExchangeResult) => void>();
  private downUntil = 0;
  /** Reply bytes spp-ctl has not read (only with `desync`). */
  private unread = Buffer.alloc(0);
  readonly startedAt: number;

  constructor(
    readonly vf: SppVf,
    private readonly pollMs: () => number,
    private readonly now: () => number,
    /** Model spp-ctl's single recv(4096) on a byte stream (see EmulatorOptions.overflowDesync). */
    private readonly desync = false,
  ) {
    this.startedAt = now();
  }

  exchange(command: string): Promise<ExchangeResult> {
    const epoch = this.epoch;
    const turn = this.tail;
    const result = new Promise<ExchangeResult>((resolve) => {
      this.waiting.add(resolve);
      const done = (r: ExchangeResult): void => {
        this.waiting.delete(resolve);
        resolve(r);
      };
      void turn.then(async () => {
        if (epoch !== this.epoch) return;
        if (this.now() < this.downUntil) return done({ kind: 'lost' });
        const poll = this.pollMs();
        if (poll > 0) await sleep(poll - ((this.now() - this.startedAt) % poll));
        if (epoch !== this.epoch) return;
        // Bytes left in the socket are what recv returns, before spp_vf answers this command.
        const stale = this.desync && this.unread.length > 0 ? this.take() : undefined;
        const raw = this.vf.reply(command);
        if (this.desync && raw !== undefined) this.unread = Buffer.concat([this.unread, Buffer.from(raw, 'utf8')]);
        if (stale) return done(stale);
        // No reply: the request (and every later one, queued behind it) waits until a restart.
        if (raw !== undefined) done(this.desync ? this.take() : { kind: 'reply', raw });
      });
    });
    this.tail = result;
    return result;
  }

  /** One recv(RECV_SIZE); bytes that are not UTF-8 make spp-ctl's decode raise (500). */
  private take(): ExchangeResult {
    const chunk = this.unread.subarray(0, RECV_SIZE);
    this.unread = this.unread.subarray(chunk.length);
    try {
      return { kind: 'reply', raw: new TextDecoder('utf-8', { fatal: true }).decode(chunk) };
    } catch {
      return { kind: 'lost' };
    }
  }

  /** spp_vf restarts: pending requests lose their connection, the state is fresh. */
  restart(downMs: number): void {
    this.unread = Buffer.alloc(0);
    this.epoch++;
    for (const resolve of [...this.waiting]) resolve({ kind: 'lost' });
    this.waiting.clear();
    this.tail = Promise.resolve();
    this.vf.reset();
    this.downUntil = this.now() + downMs;
  }
}

export interface Emulator {
  readonly lenient: boolean;
  readonly sppVersion: SppRelease;
  /** spp-ctl's REST API, in process. Rejects with ConnectionDropped for an injected drop. */
  handle(req: RestRequest): Promise<RestResponse>;
  vf(secId: number): SppVf;
  /** An spp_mirror (the same rule core as a vf, of kind `mirror`). */
  mirror(secId: number): SppVf;
  /** The vfs' ids. */
  secIds(): number[];
  mirrorIds(): number[];
  /** Restart a vf or mirror (its requests in flight get 500); `downMs`: it answers 500 that long. */
  restartVf(secId: number, downMs?: number): void;
  /** Make a vf or mirror absent from spp-ctl now and connect it after `ms` (never if undefined). */
  appearAfter(secId: number, ms?: number): void;
  setLatency(ms: number): void;
  /** spp_vf's main-loop period from now on (0: answer at once). */
  setPollInterval(ms: number): void;
  addFault(spec: FaultSpec): void;
  clearFaults(): void;
  log(): readonly LogEntry[];
  clearLog(): void;
  /** Cancel timers (late vfs). */
  close(): void;
}

interface VfSlot {
  readonly kind: ProcessKind;
  readonly channel: VfChannel;
  connected: boolean;
  /** Position in spp-ctl's process dict (connection order; a reconnect keeps it). */
  order: number;
  timer?: NodeJS.Timeout;
  /** A restarted vf connecting again after its down time. */
  reconnect?: NodeJS.Timeout;
}

/** The vfs an options object describes. */
export function vfSpecs(options: EmulatorOptions): { specs: VfSpec[]; phyPorts: number; rings: number } {
  const nics = options.mappings ?? [];
  const specs = options.vfs ? [...options.vfs] : nics.map((nic, i) => ({ secId: i + 1, coreMask: nic.core_mask }));
  const phyPorts = options.phyPorts ?? (nics.length > 0 ? nics.length : 1);
  // devstack's spp_primary -n: 2 per vhost, then 2 per mirror component (one per worker core)
  const mirrorRings = (options.mirrors ?? []).reduce((a, m) => a + 2 * (coreMaskBits(m.coreMask)?.occupied.length ?? 0), 0);
  const rings = options.rings ?? (nics.length > 0 ? 2 * nics.reduce((a, n) => a + n.num_vhost, 0) + mirrorRings : 32);
  return { specs, phyPorts, rings };
}

export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const lenient = options.lenient ?? false;
  const now = options.now ?? Date.now;
  let latency = options.latencyMs ?? 0;
  const sppVersion = options.sppVersion ?? '18.08';
  const release = behaviourOf(sppVersion);
  let pollMs = options.pollIntervalMs === 'release' ? release.mainLoopMs : (options.pollIntervalMs ?? 0);
  const { specs, phyPorts, rings } = vfSpecs(options);
  const slots = new Map<number, VfSlot>();
  let connections = 0;
  const all: (VfSpec & { kind: ProcessKind })[] = [
    ...specs.map((s) => ({ ...s, kind: 'vf' as const })),
    ...(options.mirrors ?? []).map((m) => ({ ...m, kind: 'mirror' as const })),
  ];
  for (const spec of all) {
    const bits = coreMaskBits(spec.coreMask);
    if (!bits) throw new Error(`${spec.kind} ${spec.secId}: core mask ${JSON.stringify(spec.coreMask)} selects no core`);
    // spp-ctl keeps one table of ids: a second process with an id replaces the first.
    if (slots.has(spec.secId)) throw new Error(`client id ${spec.secId} is listed twice (vfs and mirrors share the ids)`);
    const vf = new SppVf({
      kind: spec.kind,
      secId: spec.secId,
      lcores: [bits.master, ...bits.occupied],
      phyPorts: spec.phyPorts ?? phyPorts,
      rings,
      lenient,
      wedgeOnMissingRing: options.wedgeOnMissingRing ?? !lenient,
      release: sppVersion,
      ...(options.mixedCoreTypes !== undefined ? { mixedCoreTypes: options.mixedCoreTypes } : {}),
    });
    const desync = options.overflowDesync === true && (options.statusLimit ?? (!lenient && release.statusLimit));
    const slot: VfSlot = { kind: spec.kind, channel: new VfChannel(vf, () => pollMs, now, desync), connected: false, order: 0 };
    slots.set(spec.secId, slot);
    if (spec.appearAfterMs && spec.appearAfterMs > 0) {
      slot.timer = setTimeout(() => connect(slot), spec.appearAfterMs);
    } else {
      connect(slot);
    }
  }
  function connect(slot: VfSlot): void {
    slot.timer = undefined;
    if (!slot.connected) slot.order = connections++;
    slot.connected = true;
  }

  const backend: SppCtlBackend = {
    processes: () => [
      ...(options.primary === false ? [] : [{ type: 'primary' }]),
      ...[...slots.entries()]
        .filter(([, s]) => s.connected)
        .sort(([, a], [, b]) => a.order - b.order)
        .map(([secId, s]) => ({ type: s.kind, 'client-id': secId })),
    ],
    kindOf: (secId) => {
      const s = slots.get(secId);
      return s?.connected === true ? s.kind : undefined;
    },
    exchange: (secId, command) => slots.get(secId)!.channel.exchange(command),
    forget(secId, exited) {
      const slot = slots.get(secId);
      if (!slot) return;
      slot.connected = false;
      if (exited) slot.channel.vf.reset();
      forgotten.add(secId);
    },
  };
  /** Vfs spp-ctl forgot (exit, failed status probe): the next restart connects them again. */
  const forgotten = new Set<number>();
  const rest = createRestHandler(backend, {
    lenient,
    release: sppVersion,
    ...(options.statusLimit !== undefined ? { statusLimit: options.statusLimit } : {}),
  });

  const keepLog = options.log ?? true;
  const faults: ActiveFault[] = [];
  let entries: LogEntry[] = [];
  let seq = 0;

  const takeFault = (req: RestRequest, when: 'before' | 'after'): ActiveFault | undefined => {
    if (faults.length === 0) return undefined;
    const path = req.path.split('?')[0]!;
    const f = faults.find((x) => x.when === when && (!x.path || x.path.test(path)) && (!x.method || x.method === req.method));
    if (!f) return undefined;
    f.remaining--;
    if (f.remaining <= 0) faults.splice(faults.indexOf(f), 1);
    return f;
  };
  const internal: RestResponse = { status: 500, contentType: 'text/plain', body: 'Internal Server Error' };

  const slotOf = (secId: number): VfSlot => {
    const s = slots.get(secId);
    if (!s) throw new Error(`the emulator has no vf or mirror ${secId} (it has ${[...slots.keys()].join(', ') || 'none'})`);
    return s;
  };
  const idsOf = (kind: ProcessKind): number[] =>
    [...slots.entries()]
      .filter(([, s]) => s.kind === kind)
      .map(([id]) => id)
      .sort((a, b) => a - b);

  return {
    lenient,
    sppVersion,
    async handle(req) {
      const entry: LogEntry = { seq: ++seq, method: req.method, path: req.path, body: req.body ?? null, status: null, response: null };
      if (keepLog) entries.push(entry);
      if (latency > 0) await sleep(latency);
      const finish = (res: RestResponse): RestResponse => {
        entry.status = res.status;
        entry.response = res.body;
        return res;
      };
      const drop = (): never => {
        entry.dropped = true;
        throw new ConnectionDropped(req);
      };
      const before = takeFault(req, 'before');
      if (before) return before.action === 'drop' ? drop() : finish(internal);
      const res = await rest(req);
      const after = takeFault(req, 'after');
      if (after) return after.action === 'drop' ? drop() : finish(internal);
      return finish(res);
    },
    vf: (secId) => slotOf(secId).channel.vf,
    mirror(secId) {
      const s = slotOf(secId);
      if (s.kind !== 'mirror') throw new Error(`process ${secId} of the emulator is a ${s.kind}, not a mirror`);
      return s.channel.vf;
    },
    secIds: () => idsOf('vf'),
    mirrorIds: () => idsOf('mirror'),
    restartVf(secId, downMs = 0) {
      const slot = slotOf(secId);
      slot.channel.restart(downMs);
      // the new spp_vf connects to spp-ctl again once it is up (18.08.3's probe may forget it while it is down)
      if (forgotten.delete(secId)) connect(slot);
      if (downMs > 0 && release.processesProbe) {
        if (slot.reconnect) clearTimeout(slot.reconnect);
        slot.reconnect = setTimeout(() => {
          slot.reconnect = undefined;
          if (forgotten.delete(secId)) connect(slot);
        }, downMs);
      }
    },
    appearAfter(secId, ms) {
      const slot = slotOf(secId);
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = undefined;
      if (ms === 0) return connect(slot);
      // spp-ctl forgets a process only when it restarts itself; the vf then reconnects.
      slot.connected = false;
      if (ms !== undefined) slot.timer = setTimeout(() => connect(slot), ms);
    },
    setLatency(ms) {
      latency = ms;
    },
    setPollInterval(ms) {
      pollMs = ms;
    },
    addFault(spec) {
      faults.push({
        remaining: spec.count ?? 1,
        action: spec.action ?? 'error',
        when: spec.when ?? 'before',
        ...(spec.path !== undefined ? { path: new RegExp(spec.path) } : {}),
        ...(spec.method !== undefined ? { method: spec.method.toUpperCase() } : {}),
      });
    },
    clearFaults() {
      faults.length = 0;
    },
    log: () => entries,
    clearLog() {
      entries = [];
    },
    close() {
      for (const s of slots.values()) {
        if (s.timer) clearTimeout(s.timer);
        if (s.reconnect) clearTimeout(s.reconnect);
      }
    },
  };
}
