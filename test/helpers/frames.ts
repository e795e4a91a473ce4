/**
 * Replay frames built the way the replay tool will: a Controller fed
 * list-watch events by hand, against the in-process emulator, with the
 * view taken after each step once the controller is idle. The etcd writes
 * the controller makes are echoed back as the watch events etcd would send.
 */
import { Writable } from 'node:stream';
import { Controller } from '../../src/agent/controller';
import type { EtcdWriter, PortStatusWrite } from '../../src/agent/io';
import type { ViewFrame } from '../../src/agent/view';
import type { KeyEvent } from '../../src/etcd/events';
import type { ListWatchEvent } from '../../src/etcd/listwatch';
import { createLogger } from '../../src/log';
import { keys } from '../../src/protocol/keys';
import { parseMappings } from '../../src/protocol/mappings';
import { configurationValue, vhostSlots } from '../../src/setup/build';
import { inProcessTransport, SppCtlClient } from '../../src/sppctl/client';
import { createEmulator } from '../../src/sppctl/emulator';
import { SEED_MAPPINGS } from './system';

export const FRAME_HOST = 'spp4';
export const FRAME_PORT = 'c0000000-0000-0000-0000-00000000000c';

/** Answers the controller's conditional writes from the keys fed so far, and queues the resulting events. */
class EchoWriter implements EtcdWriter {
  readonly queued: KeyEvent[] = [];
  constructor(
    private readonly kv: Map<string, string>,
    private readonly nextRevision: () => number,
  ) {}

  async putPortStatus(w: PortStatusWrite): Promise<boolean> {
    const action = this.kv.get(keys.action(w.host, w.portId));
    if (w.whileAction === 'plug' ? action !== 'plug' : action === undefined) return false;
    this.record({ type: 'put', key: keys.portStatus(w.host, w.portId), value: w.value, revision: this.nextRevision() });
    return true;
  }

  async cleanupPort(host: string, portId: string, vhostKey: string | undefined): Promise<boolean> {
    if (this.kv.get(keys.action(host, portId)) !== 'unplug') return false;
    const revision = this.nextRevision();
    if (vhostKey) this.record({ type: 'put', key: vhostKey, value: 'None', revision });
    for (const key of [keys.bindPort(host, portId), keys.action(host, portId), keys.portStatus(host, portId)]) {
      if (this.kv.has(key)) this.record({ type: 'delete', key, revision });
    }
    return true;
  }

  /** The frames have no tap flows. */
  async putTapStatus(): Promise<boolean> {
    return false;
  }

  async cleanupTap(): Promise<boolean> {
    return false;
  }

  /** The write takes effect in etcd at once; the controller hears of it later, through the watch. */
  private record(ev: KeyEvent): void {
    if (ev.type === 'put') this.kv.set(ev.key, ev.value);
    else this.kv.delete(ev.key);
    this.queued.push(ev);
  }
}

/** What neutron writes, in order: [key, value] puts. */
export type Steps = ReadonlyArray<readonly [string, string]>;

/** A flat plug of FRAME_PORT on vhost 1 (claim, bind_port, plug) and its unplug. */
export function plugUnplugSteps(): Steps {
  return [
    [keys.vhost(FRAME_HOST, 'phys1', 1), FRAME_PORT],
    [keys.bindPort(FRAME_HOST, FRAME_PORT), '{"vhost_id": 1, "mac_address": "fa:16:3e:00:00:0c"}'],
    [keys.action(FRAME_HOST, FRAME_PORT), 'plug'],
    [keys.action(FRAME_HOST, FRAME_PORT), 'unplug'],
  ];
}

/** 4 NICs with 4 vhosts each (vhosts 0-15). */
export const MAPPINGS_4X4 = '00:04.0#phys1#4#0x7ff,00:05.0#phys2#4#0x3ff800,00:06.0#phys3#4#0x1ffc00000,00:07.0#phys4#4#0xffe00000000';

export const portIdOf = (n: number): string => `${n.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
export const macOf = (n: number): string => `fa:16:3e:00:${n.toString(16).padStart(2, '0').slice(-2)}:${(n * 7).toString(16).padStart(2, '0').slice(-2)}`;

/** neutron's writes for one port on vhost `vhostId` of the 4x4 host (VLAN 100+vhost on odd vhosts). */
export function plugSteps(n: number, vhostId: number, mac = macOf(n)): Steps {
  const phys = `phys${Math.floor(vhostId / 4) + 1}`;
  const vlan = vhostId % 2 === 1 ? `, "vlan_id": ${100 + vhostId}` : '';
  return [
    [keys.vhost(FRAME_HOST, phys, vhostId), portIdOf(n)],
    [keys.bindPort(FRAME_HOST, portIdOf(n)), `{"vhost_id": ${vhostId}, "mac_address": "${mac}"${vlan}}`],
    [keys.action(FRAME_HOST, portIdOf(n)), 'plug'],
  ];
}

/** The host set up, then one frame per step (and per write of the agent's that the step caused). */
export async function buildFrames(steps: Steps = plugUnplugSteps(), mappings = SEED_MAPPINGS): Promise<ViewFrame[]> {
  const parsed = parseMappings(mappings, { beyondRealLimits: true });
  if (!parsed.configuration) throw new Error(parsed.errors.join('; '));
  const configuration = parsed.configuration;
  const emulator = createEmulator({ mappings: configuration });
  const kv = new Map<string, string>();
  let revision = 1;
  const writer = new EchoWriter(kv, () => ++revision);
  const logger = createLogger({ level: 'error', stream: new Writable({ write: (_c, _e, cb) => cb() }) });
  let clock = Date.UTC(2026, 0, 1);
  const controller = new Controller({
    host: FRAME_HOST,
    sppctl: new SppCtlClient(inProcessTransport(emulator)),
    etcd: writer,
    logger,
    portTimers: { reassertMs: [], backoffBaseMs: 50, backoffMaxMs: 50 },
    now: () => {
      clock += 1000;
      return clock;
    },
  });
  const frames: ViewFrame[] = [];
  const feed = async (events: readonly ListWatchEvent[], label: string): Promise<void> => {
    for (const ev of events) controller.handle(ev);
    await controller.idle();
    // idle() does not count a failed port still reporting its error; the writer answers at once, so one macrotask settles it
    await new Promise((resolve) => setImmediate(resolve));
    frames.push({ revision: controller.store.revision, label, view: controller.view() });
    // What the controller wrote comes back through the watch, as from etcd; one frame per transaction.
    while (writer.queued.length > 0) {
      const rev = writer.queued[0]!.revision;
      const txn = writer.queued.filter((e) => e.revision === rev);
      writer.queued.splice(0, txn.length);
      await feed(txn, `agent wrote: ${txn.map(describe).join('; ')}`);
    }
  };
  const put = (key: string, value: string): Promise<void> => {
    kv.set(key, value);
    return feed([{ type: 'put', key, value, revision: ++revision }], `put ${key} = ${value}`);
  };

  const setup: Array<[string, { value: string; modRevision: number }]> = [
    [keys.configuration(FRAME_HOST), { value: configurationValue(configuration), modRevision: revision }],
    ...vhostSlots(FRAME_HOST, configuration).map((s): [string, { value: string; modRevision: number }] => [s.key, { value: 'None', modRevision: revision }]),
  ];
  for (const [k, v] of setup) kv.set(k, v.value);
  await feed([{ type: 'reset', revision, entries: setup, reason: 'start' }], 'list: host set up, no ports');
  for (const [key, value] of steps) await put(key, value);
  await controller.stop();
  return frames;
}

function describe(ev: KeyEvent): string {
  return ev.type === 'put' ? `put ${ev.key} = ${ev.value}` : `delete ${ev.key}`;
}
