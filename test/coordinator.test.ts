/**
 * The coordinator's one answer to "who wants vhost v", from the intents the
 * ports were delivered: what an unplug may clear, what a NIC build keeps, and
 * which vhosts a sync leaves to be cleared.
 */
import test from 'ava';
import { Coordinator } from '../src/agent/coordinator';
import type { PortRuntime } from '../src/agent/host-runtime';
import type { PortIntent } from '../src/plan/desired';

const place = (vhostId: number, secId = 1) => ({ vhostId, secId, vhostKey: `/spp/openstack/vhost/h/phys${secId}/${vhostId}` });
const plugOn = (vhostId: number, secId = 1, vlan?: number): PortIntent => ({
  kind: 'plug',
  place: place(vhostId, secId),
  rule: { mac: `fa:16:3e:00:00:0${vhostId}`, ...(vlan === undefined ? {} : { vlan }) },
});
const unplugOn = (vhostId: number): PortIntent => ({ kind: 'unplug', place: { vhostId, secId: 1 }, rule: { mac: 'fa:16:3e:00:00:09' } });

/** The index reads only the delivered intents (no machine is asked), so the runtimes carry no actor. */
function deliver(c: Coordinator, intents: Record<string, PortIntent>): void {
  for (const [portId, intent] of Object.entries(intents)) {
    const known = c.ports.get(portId);
    if (known) known.lastIntent = intent;
    else c.ports.set(portId, { portId, lastIntent: intent, history: [], outcomeLogged: undefined } as unknown as PortRuntime);
  }
}

test('one answer per vhost: plugged by whom, referenced by a plug or an unplug, the rules a NIC build keeps', (t) => {
  const c = new Coordinator();
  deliver(c, { a: plugOn(0), b: plugOn(1, 1, 100), c: unplugOn(2), d: plugOn(0, 2), e: { kind: 'idle', note: 'no action' } });
  t.deepEqual(c.reindex(), [], 'nothing was plugged before');
  t.true(c.pluggedByOther(0, 'x'));
  t.false(c.pluggedByOther(0, 'd'), 'a port does not hold its own vhost against itself');
  t.false(c.pluggedByOther(2, 'c'), 'an unplug plugs nothing');
  t.true(c.referenced(2), 'an unplug references its vhost until it is done');
  t.false(c.referenced(3));
  t.deepEqual([...c.desiredOn(1)], [[1, { mac: 'fa:16:3e:00:00:01', vlan: 100 }]]);
  t.deepEqual([...c.desiredOn(2)], [[0, { mac: 'fa:16:3e:00:00:00' }]]);
});

test('a sync that leaves a plugged vhost unreferenced names it (and its former port) once; a vhost another port took is kept', (t) => {
  const c = new Coordinator();
  deliver(c, { a: plugOn(0), b: plugOn(1) });
  c.reindex();
  deliver(c, { a: { kind: 'idle', note: 'no action' }, b: unplugOn(1), n: plugOn(5) });
  t.deepEqual(c.reindex(), [{ vhostId: 0, formerPort: 'a' }], 'vhost 1 is still referenced by the unplug running on it');
  t.false(c.pluggedByOther(1, 'b'));
  deliver(c, { b: { kind: 'idle', note: 'no action' }, n: plugOn(1) });
  t.deepEqual(c.reindex(), [{ vhostId: 5, formerPort: 'n' }], 'vhost 1 moved to n; 5 is free');
  t.true(c.pluggedByOther(1, 'b'), 'the old port unplugging must leave vhost 1 to n');
  t.deepEqual(c.reindex(), [], 'asked again, nothing more to clear');
});

test('readyFor: an intent without a vhost needs no NIC; one on an unknown spp_vf is not ready', (t) => {
  const c = new Coordinator();
  t.true(c.readyFor({ kind: 'idle', note: 'no action' }));
  t.false(c.readyFor(plugOn(0, 7)));
  t.throws(() => c.nicFor(7), { message: /no NIC with spp_vf id 7/ });
});
