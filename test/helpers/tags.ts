import { nicMachine } from '../../machines/nic';
import { portMachine } from '../../machines/port';
import { leafStateTags } from '../../machines/state-name';
import type { NicTag, PortTag } from '../../machines/tags';

const PORT = leafStateTags(portMachine.root) as ReadonlyMap<string, readonly PortTag[]>;
const NIC = leafStateTags(nicMachine.root) as ReadonlyMap<string, readonly NicTag[]>;

function lookup<T>(table: ReadonlyMap<string, readonly T[]>, machine: string, state: string): readonly T[] {
  const tags = table.get(state);
  if (!tags) throw new Error(`the ${machine} machine has no state ${state}`);
  return tags;
}

/** The tags the port machine gives `state`, for views written by hand in tests. */
export const portTags = (state: string): readonly PortTag[] => lookup(PORT, 'port', state);
export const nicTags = (state: string): readonly NicTag[] => lookup(NIC, 'NIC', state);
