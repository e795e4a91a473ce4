/**
 * Each spp_vf layout the agent can be configured with, end to end with a
 * real etcd, the emulator and the agent as a child process: flat and VLAN
 * plug (the requests upstream's rule gives for that layout), SIGKILL and
 * restart with no mutating request, an spp_vf restart rebuilt, unplug.
 */
import test, { type ExecutionContext } from 'ava';
import { readConfiguration } from '../src/agent/host-state';
import { observeVhost } from '../src/plan/observed';
import { planLayout } from '../src/plan/planner';
import { keys } from '../src/protocol/keys';
import { type NicLayout, targetsOf } from '../src/protocol/layout';
import type { BuildOptions } from '../src/setup/build';
import { readComponentFile } from '../src/setup/component-file';
import { pyBind, pyUnbind, waitGone, waitUp } from './helpers/neutron';
import { requests, type System, startSystem, until } from './helpers/system';
import { EXAMPLE_1_MAPPINGS, EXAMPLE_1_YAML, EXAMPLE_2_MAPPINGS, EXAMPLE_2_YAML } from './helpers/upstream-layouts';

/** forward_<v>_tx of both vhosts on one core, forward_<v>_rx on another: shared cores without mixing types under the final agent. */
const SHARED_SAME_TYPE_YAML = `vf:
- components:
  - {core: 2, name: forward_0_tx, type: forward, rx_port: ['ring:0'], tx_port: ['vhost:0']}
  - {core: 2, name: forward_1_tx, type: forward, rx_port: ['ring:2'], tx_port: ['vhost:1']}
  - {core: 3, name: forward_0_rx, type: forward, rx_port: ['vhost:0'], tx_port: ['ring:1']}
  - {core: 3, name: forward_1_rx, type: forward, rx_port: ['vhost:1'], tx_port: ['ring:3']}
  - {core: 4, name: classifier, type: classifier_mac, rx_port: ['phy:0'], tx_port: ['ring:0', 'ring:2']}
  - {core: 5, name: merger, type: merge, rx_port: ['ring:1', 'ring:3'], tx_port: ['phy:0']}
- components:
  - {core: 10, name: forward_2_tx, type: forward, rx_port: ['ring:4'], tx_port: ['vhost:2']}
  - {core: 10, name: forward_3_tx, type: forward, rx_port: ['ring:6'], tx_port: ['vhost:3']}
  - {core: 11, name: forward_2_rx, type: forward, rx_port: ['vhost:2'], tx_port: ['ring:5']}
  - {core: 11, name: forward_3_rx, type: forward, rx_port: ['vhost:3'], tx_port: ['ring:7']}
  - {core: 12, name: classifier, type: classifier_mac, rx_port: ['phy:1'], tx_port: ['ring:4', 'ring:6']}
  - {core: 13, name: merger, type: merge, rx_port: ['ring:5', 'ring:7'], tx_port: ['phy:1']}
`;

interface LayoutCase {
  readonly mappings: string;
  readonly build: Pick<BuildOptions, 'format' | 'declared' | 'mixedCoreTypes'>;
  readonly mixedCoreTypes?: boolean;
  /** Component types vf 1 must run. */
  readonly types: Record<string, string>;
  /** The plug targets of vhost 1: [tag component, tag port, untag component, entry port]. */
  readonly vhost1: readonly [string, string, string, string];
}

const declared = (yaml: string) => {
  const d = readComponentFile('layout.yaml', yaml);
  if (!d.ok) throw new Error(d.error);
  return d.value;
};

const SEED = '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02';
const FWD = { forward_0_rx: 'forward', forward_1_rx: 'forward', classifier: 'classifier_mac', merger: 'merge' };

const PORTS = [
  { portId: 'f0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:01:00' },
  { portId: 'f0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:01:01', vlan: 101 },
  { portId: 'f0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:01:02', vlan: 102 },
];

async function layoutOf(s: System): Promise<NicLayout[]> {
  const view = readConfiguration(s.host, (await s.client.get(keys.configuration(s.host)).string()) ?? undefined);
  if (view.state !== 'valid') throw new Error(`configuration: ${JSON.stringify(view)}`);
  return [...view.layout];
}

/** Every port of `layout` carries what its port wants: entry and both tags. */
async function converged(s: System, layout: readonly NicLayout[], bound: typeof PORTS): Promise<boolean> {
  for (const nic of layout) {
    const status = await s.vfStatus(nic.secId);
    if (planLayout(nic, status).length > 0) return false;
    for (const p of bound.filter((x) => nic.vhostIds.includes(x.vhostId))) {
      const seen = observeVhost(status, targetsOf(nic, p.vhostId));
      if (seen.rule?.mac !== p.mac || seen.rule.vlan !== p.vlan) return false;
      if (seen.fromVm?.operation !== (p.vlan ? 'add' : 'none') || seen.toVm?.operation !== (p.vlan ? 'del' : 'none')) return false;
    }
  }
  return true;
}

async function runLayout(t: ExecutionContext, c: LayoutCase): Promise<void> {
  const s = await startSystem(t, { agent: false, mappings: c.mappings, build: c.build, emulator: { mixedCoreTypes: c.mixedCoreTypes ?? false } });
  const layout = await layoutOf(s);
  s.spawnAgent(['--resync-interval', '0.5']);
  await until(
    async () => planLayout(layout[0]!, await s.vfStatus(1)).length === 0 && planLayout(layout[1]!, await s.vfStatus(2)).length === 0,
    'both NICs built',
  );
  const vf1 = await s.vfStatus(1);
  const types = Object.fromEntries(vf1.components.flatMap((x) => ('name' in x ? [[x.name, x.type]] : [])));
  t.like(types, c.types, JSON.stringify(types));

  // flat plug: one classifier entry on the vhost's entry port
  s.sim.emulator.clearLog();
  await pyBind(s.client, s.host, PORTS[0]!);
  await waitUp(s.client, s.host, PORTS[0]!.portId);
  const entry0 = targetsOf(layout[0]!, 0).entryPort;
  t.deepEqual(requests(s), [
    { method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'mac', mac_address: PORTS[0]!.mac, port: entry0 } },
  ]);

  // VLAN plug: the tag and untag targets of this layout, then the entry
  s.sim.emulator.clearLog();
  await pyBind(s.client, s.host, PORTS[1]!);
  await waitUp(s.client, s.host, PORTS[1]!.portId);
  const [tagComp, tagPort, untagComp, entry1] = c.vhost1;
  const comp = (name: string) => `/v1/vfs/1/components/${name}/ports`;
  t.deepEqual(requests(s), [
    { method: 'PUT', path: comp(tagComp), body: { action: 'detach', port: tagPort, dir: 'rx' } },
    { method: 'PUT', path: comp(tagComp), body: { action: 'attach', port: tagPort, dir: 'rx', vlan: { operation: 'add', id: 101, pcp: 0 } } },
    { method: 'PUT', path: comp(untagComp), body: { action: 'detach', port: entry1, dir: 'tx' } },
    { method: 'PUT', path: comp(untagComp), body: { action: 'attach', port: entry1, dir: 'tx', vlan: { operation: 'del' } } },
    { method: 'PUT', path: '/v1/vfs/1/classifier_table', body: { action: 'add', type: 'vlan', vlan: 101, mac_address: PORTS[1]!.mac, port: entry1 } },
  ]);
  await pyBind(s.client, s.host, PORTS[2]!);
  await waitUp(s.client, s.host, PORTS[2]!.portId);
  t.true(await converged(s, layout, PORTS), 'every port carries its entry and tags');

  // SIGKILL and restart: nothing to send
  const before = await s.vfStatuses();
  await s.killChild('SIGKILL');
  s.sim.emulator.clearLog();
  const killedAt = Number((await s.client.get(keys.agent(s.host)).exec()).header.revision);
  const from = s.childOutput.length;
  s.spawnAgent(['--resync-interval', '0.5']);
  // each port's run ends up; port_status is put again only where a driver may still wait (docs/protocol.md)
  for (const p of PORTS) {
    await until(() => s.childLogs(from).some((l) => l.message === 'port is up' && l.port === p.portId), `${p.portId} up again after the restart`);
    t.is(await s.client.get(keys.portStatus(s.host, p.portId)).string(), 'up');
  }
  t.true(Number((await s.client.get(keys.agent(s.host)).exec()).header.revision) > killedAt, 'the new agent wrote its liveness key');
  t.deepEqual(requests(s), [], 'a restart on an unchanged host sends no mutating request');
  t.deepEqual(await s.vfStatuses(), before);

  // spp_vf 1 restarts empty: the agent rebuilds the layout and re-plugs its ports
  s.sim.emulator.restartVf(1);
  await until(() => converged(s, layout, PORTS), 'vf 1 rebuilt with its ports', 15_000);
  t.like(Object.fromEntries((await s.vfStatus(1)).components.flatMap((x) => ('name' in x ? [[x.name, x.type]] : []))), c.types);

  // unplug: entries gone, keys cleaned
  for (const p of PORTS) await pyUnbind(s.client, s.host, p.portId);
  for (const p of PORTS) await waitGone(s.client, s.host, p.portId);
  t.deepEqual((await s.vfStatus(1)).classifier_table, []);
  t.deepEqual((await s.vfStatus(2)).classifier_table, []);
  t.is(await s.client.get(keys.vhost(s.host, 'phys1', 1)).string(), 'None');
}

test('the c33920f layout (legacy array)', (t) =>
  runLayout(t, {
    mappings: SEED,
    build: { format: 'legacy' },
    types: { forward_0_tx: 'forward', ...FWD },
    vhost1: ['forward_1_rx', 'vhost:1', 'classifier', 'ring:2'],
  }));

test('the final default layout: forward_<v>_tx as merge, the VLAN tag on ring:2v+1 of merger', (t) =>
  runLayout(t, {
    mappings: SEED,
    build: { format: 'final' },
    types: { forward_0_tx: 'merge', forward_1_tx: 'merge', ...FWD },
    vhost1: ['merger', 'ring:3', 'classifier', 'ring:2'],
  }));

test('a shared-core layout of one type per core (SPP 18.08)', (t) =>
  runLayout(t, {
    mappings: '00:04.0#phys1#2#0x3e,00:05.0#phys2#2#0x3c02',
    build: { format: 'final', declared: declared(SHARED_SAME_TYPE_YAML) },
    types: { forward_0_tx: 'merge', forward_1_tx: 'merge', ...FWD },
    vhost1: ['merger', 'ring:3', 'classifier', 'ring:2'],
  }));

test("upstream's example 1 (core duplication) on an spp_vf that takes mixed-type cores", (t) =>
  runLayout(t, {
    mappings: EXAMPLE_1_MAPPINGS,
    build: { format: 'final', declared: declared(EXAMPLE_1_YAML), mixedCoreTypes: true },
    mixedCoreTypes: true,
    types: { forward_0_tx: 'merge', forward_1_tx: 'merge', ...FWD },
    vhost1: ['merger', 'ring:3', 'classifier', 'ring:2'],
  }));

test("upstream's example 2 (no forwarders): every step targets vhost:v", (t) =>
  runLayout(t, {
    mappings: EXAMPLE_2_MAPPINGS,
    build: { format: 'final', declared: declared(EXAMPLE_2_YAML) },
    types: { classifier: 'classifier_mac', merger: 'merge' },
    vhost1: ['merger', 'vhost:1', 'classifier', 'vhost:1'],
  }));
