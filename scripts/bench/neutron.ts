/**
 * The mechanism driver's writes, split so the clock can start at the
 * `action = plug` put (the moment neutron asks for the port), as the Python
 * driver orders them: claim the vhost, bind_port, then action.
 */
import { claimAndBind, type OriginalPort, setAction } from '../../src/driver/original-writes';

export type BenchPort = OriginalPort;

let serial = 0;

/** A fresh port id and MAC for a vhost: every run is a new port, so no event of an earlier run can be mistaken for it. */
export function newPort(phys: string, vhostId: number, vlan?: number): BenchPort {
  const n = ++serial;
  const hex = n.toString(16).padStart(12, '0');
  const mac = `fa:16:3e:${hex.slice(6, 8)}:${hex.slice(8, 10)}:${hex.slice(10, 12)}`;
  return { portId: `be0c0000-0000-4000-8000-${hex}`, phys, vhostId, mac, ...(vlan !== undefined ? { vlan } : {}) };
}

export { claimAndBind, setAction };
