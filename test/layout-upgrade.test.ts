/**
 * A host whose spp_vf an agent of the c33920f layout built, whose
 * configuration is then rewritten in the final format (an upgrade of
 * networking-spp): the agent clears the stale tag of the plugged VLAN port on
 * its next plan, leaves the component types, says what differs in its view,
 * /readyz and `spp explain`, and neither wedges nor loops.
 */
import test from 'ava';
import { driftRemedy, layoutDrift } from '../src/plan/drift';
import { observeVhost } from '../src/plan/observed';
import { planVhost } from '../src/plan/planner';
import { hostLayout, targetsOf, withDefaultComponents } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';
import { buildHost } from '../src/setup/build';
import type { SppCommand } from '../src/sppctl/commands';
import type { VfStatus, VlanSetting } from '../src/sppctl/wire';
import { runCli } from './helpers/cli';
import { pyBind, waitUp } from './helpers/neutron';
import { opsUrl, readyz } from './helpers/ops';
import { requests, SEED_MAPPINGS, startSystem, until } from './helpers/system';

const FLAT = { portId: 'u0000000-0000-0000-0000-000000000000', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:02:00' };
const VLAN = { portId: 'u0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:02:01', vlan: 201 };

test('drift: a c33920f-built vf against the final layout; the plugged vhost clears its stale tag, a free one keeps it', (t) => {
  const seed = parseMappings(SEED_MAPPINGS).configuration!;
  const [legacyNic] = hostLayout(seed, 'legacy');
  const [finalNic] = hostLayout(withDefaultComponents(seed), 'final');
  const none: VlanSetting = { operation: 'none', id: 0, pcp: 0 };
  const port = (p: string, vlan: VlanSetting = none) => ({ port: p, vlan });
  const status: VfStatus = {
    'client-id': 1,
    ports: ['phy:0', 'vhost:0', 'vhost:1', 'ring:0', 'ring:1', 'ring:2', 'ring:3'],
    components: legacyNic!.components.map((c) => ({
      core: c.core,
      name: c.name,
      type: c.type,
      rx_port: c.rx.map((p) => (p === 'vhost:1' ? port(p, { operation: 'add', id: 201, pcp: 0 }) : port(p))),
      tx_port: c.tx.map((p) => (p === 'ring:2' ? port(p, { operation: 'del', id: 0, pcp: 0 }) : port(p))),
    })),
    classifier_table: [{ type: 'vlan', value: '201/FA:16:3E:00:02:01', port: 'ring:2' }],
  };
  const drift = layoutDrift(finalNic!, status);
  t.deepEqual(
    drift.map((d) => d.text),
    [
      'forward_0_tx runs as forward; the configured layout starts it as merge',
      'forward_1_tx runs as forward; the configured layout starts it as merge',
      'vhost:1 rx of forward_1_rx carries vlan add 201, which the configured layout never sets (the configured layout tags ring:3 of merger)',
    ],
  );
  t.deepEqual(layoutDrift(legacyNic!, status), [], 'the layout it was built from sees no drift');
  const text = (cmds: SppCommand[]) =>
    cmds.map((c) =>
      c.op === 'port_attach' || c.op === 'port_detach'
        ? `${c.op} ${c.component} ${c.port}${c.op === 'port_attach' && c.vlan ? ` ${c.vlan.operation}` : ''}`
        : c.op,
    );
  t.deepEqual(text(planVhost(finalNic!, 1, { mac: VLAN.mac, vlan: 201 }, status)), [
    'port_detach forward_1_rx vhost:1',
    'port_attach forward_1_rx vhost:1',
    'port_detach merger ring:3',
    'port_attach merger ring:3 add',
  ]);
  t.deepEqual(planVhost(finalNic!, 1, { free: 'keep-tags' }, { ...status, classifier_table: [] }), [], 'a free vhost keeps whatever tags it has');
  t.is(observeVhost(status, targetsOf(finalNic!, 1)).fromVm?.operation, 'none');
  t.regex(driftRemedy(1), /restart spp_vf 1 and the agent rebuilds it from the configuration/);
});

test('upgrade from a c33920f-built spp_vf to the final format: repaired where a port needs it, reported, no loop; an spp_vf restart rebuilds it', async (t) => {
  const s = await startSystem(t, { agent: false, build: { format: 'legacy' } });
  s.startAgent();
  await pyBind(s.client, s.host, FLAT);
  await pyBind(s.client, s.host, VLAN);
  await waitUp(s.client, s.host, FLAT.portId);
  await waitUp(s.client, s.host, VLAN.portId);
  await s.stopAgent();

  // the upgrade: the configuration in the final format, then the agent again
  await buildHost(s.client, s.host, s.configuration, { format: 'final' });
  s.sim.emulator.clearLog();
  s.startAgent({ ops: '127.0.0.1:0' });
  const url = await opsUrl(s.agent);
  const [finalNic] = hostLayout(withDefaultComponents(s.configuration), 'final');
  await until(async () => {
    const seen = observeVhost(await s.vfStatus(1), targetsOf(finalNic!, 1));
    return seen.fromVm?.operation === 'add' && seen.fromVm.id === 201;
  }, 'the VLAN port tagged at the merger');
  const comp = (name: string) => `/v1/vfs/1/components/${name}/ports`;
  await until(() => requests(s).length >= 4, 'the repair');
  t.deepEqual(requests(s), [
    { method: 'PUT', path: comp('forward_1_rx'), body: { action: 'detach', port: 'vhost:1', dir: 'rx' } },
    { method: 'PUT', path: comp('forward_1_rx'), body: { action: 'attach', port: 'vhost:1', dir: 'rx' } },
    { method: 'PUT', path: comp('merger'), body: { action: 'detach', port: 'ring:3', dir: 'rx' } },
    { method: 'PUT', path: comp('merger'), body: { action: 'attach', port: 'ring:3', dir: 'rx', vlan: { operation: 'add', id: 201, pcp: 0 } } },
  ]);
  const drift = await until(() => s.agent?.controller.view().nics.find((n) => n.secId === 1)?.drift, 'the drift in the view');
  t.deepEqual(drift, [
    'forward_0_tx runs as forward; the configured layout starts it as merge',
    'forward_1_tx runs as forward; the configured layout starts it as merge',
  ]);
  const ready = await readyz(url);
  t.is(ready.status, 200);
  t.regex(ready.body, /^ok\nwarning: forward_0_tx runs as forward; .* restart spp_vf 1 and the agent rebuilds it/);
  const explained = await runCli([
    'explain',
    '--host',
    s.host,
    '--port-id',
    VLAN.portId,
    '--ops',
    url,
    '--spp-ctl',
    s.sim.url,
    '--etcd-endpoints',
    s.etcd.endpoints.join(','),
  ]);
  t.regex(explained.out, /spp_vf 1 was built from another layout than the configuration declares/, explained.out + explained.err);
  t.regex(explained.out, /forward_1_tx runs as forward; the configured layout starts it as merge/);

  // no loop: a restart of the agent sends nothing more
  await s.stopAgent();
  s.sim.emulator.clearLog();
  s.startAgent({ resyncInterval: '0.3' });
  await until(() => s.agent?.controller.view().nics.every((n) => n.state === 'ready') && s.agent.controller.view().ports.length === 2, 'ready again');
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(requests(s), [], 'a drifted but repaired host sends nothing at start');

  // the operator restarts spp_vf 1: rebuilt from the configuration, merge types, the ports plugged again, no drift
  s.sim.emulator.restartVf(1);
  await until(
    async () => {
      const st = await s.vfStatus(1).catch(() => undefined);
      return st !== undefined && st.classifier_table.length === 2 && layoutDrift(finalNic!, st).length === 0;
    },
    'vf 1 rebuilt without drift',
    15_000,
  );
  const types = (await s.vfStatus(1)).components.flatMap((c) => ('name' in c ? [`${c.name}:${c.type}`] : []));
  t.true(types.includes('forward_0_tx:merge') && types.includes('forward_1_tx:merge'), types.join(' '));
  await until(() => s.agent?.controller.view().nics.find((n) => n.secId === 1)?.drift === undefined, 'no drift in the view');
});
