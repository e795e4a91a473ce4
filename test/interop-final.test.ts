/**
 * What neutron's driver of each networking-spp version does with the
 * configuration we write (its one line that reads it, restated), and a bind
 * through our agent with the driver's writes on a final-format host. The
 * driver's writes (vhost claim, bind_port, action) are the same in both
 * versions (upstream-final.md §1), so helpers/neutron.ts serves for both.
 */
import test from 'ava';
import { encodeConfiguration } from '../src/protocol/configuration';
import { keys } from '../src/protocol/keys';
import { withDefaultComponents } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { classified, SEED_MAPPINGS, startSystem } from './helpers/system';

/** nspp 0170ff7 mech_spp.py: `phys_nets = [conf['physical_network'] for conf in agent_conf['vf']]`. */
function finalDriverPhysNets(value: string): string[] {
  const conf = JSON.parse(value) as unknown;
  if (Array.isArray(conf)) throw new TypeError('list indices must be integers or slices, not str');
  return (conf as { vf: { physical_network: string }[] }).vf.map((c) => c.physical_network);
}

/** nspp c33920f mech_spp.py: `[conf['physical_network'] for conf in agent_conf]`; iterating a dict yields its keys. */
function c33920fDriverPhysNets(value: string): string[] {
  const conf = JSON.parse(value) as unknown;
  const items = Array.isArray(conf) ? conf : Object.keys(conf as object);
  return items.map((c) => {
    if (typeof c === 'string') throw new TypeError('string indices must be integers');
    return (c as { physical_network: string }).physical_network;
  });
}

test("each driver reads the format of its version and fails on the other's, as upstream's do", (t) => {
  const seed = parseMappings(SEED_MAPPINGS).configuration!;
  const final = encodeConfiguration({ format: 'final', vf: withDefaultComponents(seed) });
  const legacy = encodeConfiguration({ format: 'legacy', vf: seed });
  t.deepEqual(finalDriverPhysNets(final), ['phys1', 'phys2']);
  t.deepEqual(c33920fDriverPhysNets(legacy), ['phys1', 'phys2']);
  t.throws(() => finalDriverPhysNets(legacy), { instanceOf: TypeError });
  t.throws(() => c33920fDriverPhysNets(final), { instanceOf: TypeError });
});

test('the final driver binds flat and VLAN ports through our agent on a final-format host', async (t) => {
  const s = await startSystem(t, { build: { format: 'final' } });
  t.deepEqual(finalDriverPhysNets((await s.client.get(keys.configuration(s.host)).string())!), ['phys1', 'phys2']);
  const flat = { portId: 'a0000000-0000-0000-0000-000000000000', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:03:02' };
  const vlan = { portId: 'a0000000-0000-0000-0000-000000000001', vhostId: 3, phys: 'phys2', mac: 'fa:16:3e:00:03:03', vlan: 303 };
  await pyBind(s.client, s.host, flat);
  await pyBind(s.client, s.host, vlan);
  await waitUp(s.client, s.host, flat.portId);
  await waitUp(s.client, s.host, vlan.portId);
  t.deepEqual(await classified(s), ['2/ring:4/FA:16:3E:00:03:02', '2/ring:6/303/FA:16:3E:00:03:03']);
  const merger = (await s.vfStatus(2)).components.find((c) => 'name' in c && c.name === 'merger');
  t.deepEqual(merger && 'rx_port' in merger ? merger.rx_port.find((p) => p.port === 'ring:7')?.vlan : undefined, { operation: 'add', id: 303, pcp: 0 });
  await pyUnbind(s.client, s.host, vlan.portId);
  await waitGone(s.client, s.host, vlan.portId);
  t.deepEqual(await classified(s), ['2/ring:4/FA:16:3E:00:03:02']);
});
