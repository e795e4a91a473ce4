/**
 * Property: random interleavings of bind, unbind, re-bind (action back to
 * plug before the agent cleaned up), MAC change and agent restarts on a
 * small host (2 NICs x 2 vhosts) always converge to what a simple model
 * predicts from the final keys: per vhost, the MAC/VLAN of the port whose
 * action is plug with a valid bind_port; the keys of unplugged ports gone.
 *
 * Every driver step is one atomic etcd operation, as the real driver's are,
 * so whatever the agent does in between, the final keys are well defined.
 */
import test from 'ava';
import fc from 'fast-check';
import { pythonJson } from '../src/protocol/codecs';
import { keys, parseKey } from '../src/protocol/keys';
import { buildHost } from '../src/setup/build';
import { type System, startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

const SOAK = process.env.SPP_SOAK === '1';
const PORT_IDS = ['b0000000-0000-0000-0000-000000000000', 'b0000000-0000-0000-0000-000000000001', 'b0000000-0000-0000-0000-000000000002'];
const VHOSTS = [
  { phys: 'phys1', vhostId: 0, secId: 1 },
  { phys: 'phys1', vhostId: 1, secId: 1 },
  { phys: 'phys2', vhostId: 2, secId: 2 },
  { phys: 'phys2', vhostId: 3, secId: 2 },
];
/**
 * MAC m of port p: no two ports share a MAC (one spp_vf classifier lists one
 * port per MAC, and neutron never gives two ports of a network one MAC).
 */
const macOf = (p: number, m: number): string => `fa:16:3e:00:0${p}:0${m}`;
const MAC_VARIANTS = 3;

type Op =
  | { readonly op: 'bind'; readonly port: number; readonly vhost: number; readonly mac: number; readonly vlan?: number }
  | { readonly op: 'unbind'; readonly port: number }
  | { readonly op: 'rebind'; readonly port: number }
  | { readonly op: 'mac'; readonly port: number; readonly mac: number }
  | { readonly op: 'restart' }
  | { readonly op: 'wait'; readonly ms: number };

const port = fc.integer({ min: 0, max: PORT_IDS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        op: fc.constant('bind' as const),
        port,
        vhost: fc.integer({ min: 0, max: VHOSTS.length - 1 }),
        mac: fc.integer({ min: 0, max: MAC_VARIANTS - 1 }),
        vlan: fc.option(fc.integer({ min: 1, max: 4094 }), { nil: undefined }),
      },
      { requiredKeys: ['op', 'port', 'vhost', 'mac'] },
    ),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('unbind' as const), port }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('rebind' as const), port }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mac' as const), port, mac: fc.integer({ min: 0, max: MAC_VARIANTS - 1 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.constantFrom(0, 20, 100) }) },
);

function bindValue(vhostId: number, mac: string, vlan: number | undefined): string {
  return pythonJson({ vhost_id: vhostId, mac_address: mac, ...(vlan !== undefined ? { vlan_id: vlan } : {}) });
}

/** One driver step, each a single etcd transaction guarded by the state it needs. */
async function apply(s: System, op: Op): Promise<void> {
  const c = s.client;
  switch (op.op) {
    case 'bind': {
      const id = PORT_IDS[op.port]!;
      const v = VHOSTS[op.vhost]!;
      const vhostKey = keys.vhost(s.host, v.phys, v.vhostId);
      // claim, bind_port and plug at once: the driver's three writes without the agent seeing half
      await c
        .if(vhostKey, 'Value', '==', 'None')
        .and(keys.action(s.host, id), 'Create', '==', 0)
        .and(keys.bindPort(s.host, id), 'Create', '==', 0)
        .then(
          c.put(vhostKey).value(id),
          c.put(keys.bindPort(s.host, id)).value(bindValue(v.vhostId, macOf(op.port, op.mac), op.vlan)),
          c.put(keys.action(s.host, id)).value('plug'),
        )
        .commit();
      return;
    }
    case 'unbind':
      await c
        .if(keys.action(s.host, PORT_IDS[op.port]!), 'Value', '==', 'plug')
        .then(c.put(keys.action(s.host, PORT_IDS[op.port]!)).value('unplug'))
        .commit();
      return;
    case 'rebind':
      await c
        .if(keys.action(s.host, PORT_IDS[op.port]!), 'Value', '==', 'unplug')
        .then(c.put(keys.action(s.host, PORT_IDS[op.port]!)).value('plug'))
        .commit();
      return;
    case 'mac': {
      const id = PORT_IDS[op.port]!;
      const raw = await c.get(keys.bindPort(s.host, id)).string();
      if (raw === null) return;
      const old = JSON.parse(raw) as { vhost_id: number; vlan_id?: number };
      await c
        .if(keys.bindPort(s.host, id), 'Value', '==', raw)
        .and(keys.action(s.host, id), 'Value', '==', 'plug')
        .then(c.put(keys.bindPort(s.host, id)).value(bindValue(old.vhost_id, macOf(op.port, op.mac), old.vlan_id)))
        .commit();
      return;
    }
    case 'restart':
      await s.stopAgent();
      s.startAgent();
      return;
    case 'wait':
      await sleep(op.ms);
      return;
  }
}

interface Model {
  readonly classifiers: string[][];
  readonly keys: Record<string, string>;
}

/** What the final keys say the host must look like once the agent is done. */
function model(s: System, final: Record<string, string>): Model {
  const classifiers: string[][] = [[], []];
  const out: Record<string, string> = {};
  const actionOf = (id: string): string | undefined => final[keys.action(s.host, id)];
  for (const [key, value] of Object.entries(final)) {
    const k = parseKey(key);
    if (k && 'portId' in k && actionOf(k.portId) === 'unplug') continue; // cleaned up
    if (k?.kind === 'port_status') continue; // set below
    if (k?.kind === 'vhost' && value !== 'None' && actionOf(value) !== 'plug') {
      out[key] = 'None';
      continue;
    }
    out[key] = value;
  }
  for (const v of VHOSTS) {
    const owner = final[keys.vhost(s.host, v.phys, v.vhostId)];
    if (!owner || owner === 'None' || actionOf(owner) !== 'plug') continue;
    const bind = JSON.parse(final[keys.bindPort(s.host, owner)]!) as { mac_address: string; vlan_id?: number };
    const mac = bind.mac_address.toUpperCase();
    classifiers[v.secId - 1]!.push(`ring:${v.vhostId * 2}/${bind.vlan_id !== undefined ? `${bind.vlan_id}/${mac}` : mac}`);
    out[keys.portStatus(s.host, owner)] = 'up';
  }
  return { classifiers, keys: Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b))) };
}

async function observed(s: System): Promise<Model> {
  const vfs = await s.vfStatuses();
  return { classifiers: vfs.map((vf) => vf.classifier_table.map((e) => `${e.port}/${e.value}`).sort()), keys: await s.keys() };
}

test('random binds, unbinds, re-binds, MAC changes and restarts converge to the model', async (t) => {
  const s = await startSystem(t, { agent: false, settings: { reassert: 'off' } });
  let runs = 0;
  let plugged = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: SOAK ? 30 : 12 }), async (ops) => {
      runs += 1;
      await s.stopAgent();
      await s.client.delete().prefix('/spp/');
      await buildHost(s.client, s.host, s.configuration);
      for (const secId of s.sim.emulator.secIds()) s.sim.emulator.restartVf(secId);
      s.startAgent();
      for (const op of ops) await apply(s, op);
      // the driver stops here: once every unplug is cleaned up, the final keys are fixed
      await until(async () => !Object.values(await s.keys()).includes('unplug') || undefined, 'every unplug cleaned up', 20_000);
      const want = model(s, await s.keys());
      if (want.classifiers.flat().length > 0) plugged += 1;
      const wantJson = JSON.stringify(want);
      await until(async () => JSON.stringify(await observed(s)) === wantJson, 'converged to the model', 20_000).catch(() => undefined);
      const got = await observed(s);
      if (JSON.stringify(got) !== wantJson) {
        t.log(`ops: ${JSON.stringify(ops)}`);
        if (process.env.SPP_PROPERTY_LOG) require('node:fs').writeFileSync(process.env.SPP_PROPERTY_LOG, s.logs.map((l) => JSON.stringify(l)).join('\n'));
      }
      t.deepEqual(got, want, JSON.stringify(ops));
      return JSON.stringify(got) === wantJson;
    }),
    {
      numRuns: SOAK ? 200 : 15,
      endOnFailure: true,
      // SPP_PROPERTY_OPS='[...]' replays one failing sequence first (from a failure's log)
      ...(process.env.SPP_PROPERTY_OPS ? { examples: [[JSON.parse(process.env.SPP_PROPERTY_OPS) as Op[]]] } : {}),
    },
  );
  t.log(`${runs} runs, ${plugged} ending with ports plugged`);
  t.true(plugged > 0, 'some runs end with plugged ports');
});
