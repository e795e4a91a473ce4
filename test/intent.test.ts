import test from 'ava';
import type { PortKeys, VhostKey } from '../src/agent/host-state';
import { type HostFacts, intentOf, resolveConflicts } from '../src/agent/intent';
import type { PortIntent } from '../src/plan/desired';
import { pythonJson } from '../src/protocol/codecs';
import { hostLayout } from '../src/protocol/layout';
import { parseMappings } from '../src/protocol/mappings';

const layout = hostLayout(parseMappings('00:04.0#phys1#2#0xfe').configuration!);
const vhost = (id: number, owner: string | undefined): VhostKey => ({
  key: `/spp/openstack/vhost/h/phys1/${id}`,
  phys: 'phys1',
  owner: { ok: true, value: owner === undefined ? { free: true } : { free: false, portId: owner } },
  modRevision: 1,
});
const facts: HostFacts = {
  host: 'h',
  layout,
  vhosts: new Map([
    [0, vhost(0, 'A')],
    [1, vhost(1, undefined)],
  ]),
  claims: new Map([['A', [0]]]),
};
const port = (portId: string, bind: Record<string, unknown> | string, action = 'plug'): PortKeys => ({
  host: 'h',
  portId,
  bindPort: { value: typeof bind === 'string' ? bind : pythonJson(bind), modRevision: 2 },
  action: { value: action, modRevision: 3 },
});
const causeOf = (intent: PortIntent | undefined): string | undefined => (intent?.kind === 'invalid' ? intent.cause : intent?.kind);

test('an invalid intent says whether another port holds the vhost or the keys themselves are wrong', (t) => {
  t.is(causeOf(intentOf(port('B', { vhost_id: 0, mac_address: 'fa:16:3e:00:00:0b' }), facts)), 'vhost-claimed');
  t.is(causeOf(intentOf(port('B', { vhost_id: 1, mac_address: 'fa:16:3e:00:00:0b' }), facts)), 'input', 'claimed nothing');
  t.is(causeOf(intentOf(port('A', { vhost_id: 0, mac_address: 'not-a-mac' }), facts)), 'input');
  t.is(causeOf(intentOf(port('A', { vhost_id: 9, mac_address: 'fa:16:3e:00:00:0a' }), facts)), 'input');
  t.is(causeOf(intentOf(port('A', { vhost_id: 0, mac_address: 'fa:16:3e:00:00:0a' }, 'jump'), facts)), 'input');
  t.is(causeOf(intentOf(port('A', { vhost_id: 0, mac_address: 'fa:16:3e:00:00:0a' }), facts)), 'plug');
});

test('two ports on one vhost: the one its key does not name is refused as vhost-claimed', (t) => {
  const plug = intentOf(port('A', { vhost_id: 0, mac_address: 'fa:16:3e:00:00:0a' }), facts);
  const out = resolveConflicts(
    new Map([
      ['A', plug],
      ['C', plug],
    ]),
    facts,
  );
  t.is(causeOf(out.get('A')), 'plug');
  t.is(causeOf(out.get('C')), 'vhost-claimed');
  t.regex((out.get('C') as { reason: string }).reason, /wanted by ports A, C/);
});

test('an intent is derived again when the facts change, even for the same keys object', (t) => {
  const a = port('A', { vhost_id: 0, mac_address: 'fa:16:3e:00:00:0a' });
  const first = intentOf(a, facts);
  t.is(first.kind, 'plug');
  t.is(intentOf(a, { ...facts }), first, 'the same inputs: the intent derived before');
  // the claim moves to another port: a new vhosts map and claims map, as HostStore makes them
  const moved: HostFacts = { ...facts, vhosts: new Map([[0, vhost(0, 'B')]]), claims: new Map([['B', [0]]]) };
  t.is(causeOf(intentOf(a, moved)), 'vhost-claimed');
  t.is(causeOf(intentOf(a, { ...facts, layout: [] })), 'input', 'a layout without the vhost');
  t.is(intentOf(a, facts).kind, 'plug', 'back to the first facts');
});
