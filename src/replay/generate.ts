/**
 * A large, plausible and consistent /spp key space for benchmarks and tests:
 * many hosts, each set up like `spp config build` does (2-4 NICs within the
 * real limits), most vhosts claimed by a port that neutron bound, as
 * `etcdctl get --prefix /spp` prints it. Deterministic from the seed.
 */
import { pythonJson } from '../protocol/codecs';
import { keys } from '../protocol/keys';

export interface GenerateOptions {
  /** Upper bound of the number of keys (default 100000); whole hosts only. */
  readonly keys?: number;
  readonly seed?: number;
}

/** mulberry32: small, fast, and the same sequence everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0');

/** The key/value pairs, sorted by key as etcdctl lists them. */
export function generateKeys(options: GenerateOptions = {}): Array<[string, string]> {
  const limit = options.keys ?? 100_000;
  const rand = prng(options.seed ?? 1);
  const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
  const uuid = (): string => {
    const h = Array.from({ length: 32 }, () => hex(int(0, 15), 1)).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[int(0, 3)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  };
  let macs = 0;
  const out: Array<[string, string]> = [];
  for (let hostIndex = 1; ; hostIndex++) {
    const host = `compute-${String(hostIndex).padStart(5, '0')}`;
    const hostKeys: Array<[string, string]> = [];
    const nics = int(2, 4);
    const config: Array<Record<string, unknown>> = [];
    let nextCore = 2;
    let nextVhost = 0;
    for (let i = 0; i < nics; i++) {
      const numVhost = int(2, 4);
      const cores = 2 * numVhost + 2;
      // master core 1 is shared by every spp_vf; occupied cores never overlap
      const mask = (1n << 1n) | (((1n << BigInt(cores)) - 1n) << BigInt(nextCore));
      nextCore += cores;
      const phys = `phys${i + 1}`;
      config.push({ num_vhost: numVhost, core_mask: `0x${mask.toString(16)}`, pci_address: `00:${hex(4 + i, 2)}.0`, physical_network: phys });
      const vlanNetwork = i % 2 === 1;
      for (let k = 0; k < numVhost; k++) {
        const vhostId = nextVhost++;
        const vhostKey = keys.vhost(host, phys, vhostId);
        if (rand() >= 0.75) {
          hostKeys.push([vhostKey, 'None']);
          continue;
        }
        const portId = uuid();
        const m = macs++;
        const bind: Record<string, unknown> = {
          vhost_id: vhostId,
          mac_address: `fa:16:3e:${hex((m >> 16) & 255, 2)}:${hex((m >> 8) & 255, 2)}:${hex(m & 255, 2)}`,
        };
        if (vlanNetwork) bind.vlan_id = int(1, 4094);
        hostKeys.push([vhostKey, portId], [keys.bindPort(host, portId), pythonJson(bind)]);
        const r = rand();
        if (r < 0.9) {
          hostKeys.push([keys.action(host, portId), 'plug'], [keys.portStatus(host, portId), 'up']);
        } else if (r < 0.97) {
          // bound a moment ago: the agent has not answered yet
          hostKeys.push([keys.action(host, portId), 'plug']);
        } else {
          // unbound before its plug finished
          hostKeys.push([keys.action(host, portId), 'unplug']);
        }
      }
    }
    hostKeys.push([keys.configuration(host), pythonJson(config)]);
    if (out.length + hostKeys.length > limit) break;
    out.push(...hostKeys);
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The `etcdctl get --prefix /spp` text form: key line, value line. */
export function generateSnapshot(options: GenerateOptions = {}): string {
  return generateKeys(options)
    .map(([k, v]) => `${k}\n${v}\n`)
    .join('');
}
