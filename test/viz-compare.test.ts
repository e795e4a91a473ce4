import test from 'ava';
import type { PortView } from '../src/agent/view';
import { FREE_RESET_TAGS } from '../src/plan/planner';
import { comparePort, pageView } from '../src/viz/compare';
import { portTags } from './helpers/tags';

const place = { vhostId: 3, secId: 2, vhostKey: '/spp/openstack/vhost/spp4/phys2/3' };
const port = (over: Partial<PortView>): PortView => ({
  portId: 'p1',
  state: 'plugged.steady',
  tags: portTags('plugged.steady'),
  intent: { kind: 'plug', place, rule: { mac: 'fa:16:3e:00:00:03', vlan: 100 } },
  revision: 7,
  history: [],
  ...over,
});

test('a VLAN port whose vf holds what it wants: every row the same', (t) => {
  const rows = comparePort(
    port({
      observed: {
        rule: { mac: 'fa:16:3e:00:00:03', vlan: 100 },
        fromVm: { operation: 'add', id: 100, pcp: 0 },
        toVm: { operation: 'del', id: 0, pcp: 0 },
      },
    }),
  );
  t.deepEqual(
    rows.map((r) => [r.field, r.desired, r.observed, r.same]),
    [
      ['classifier rule', 'vlan 100 mac fa:16:3e:00:00:03', 'vlan 100 mac fa:16:3e:00:00:03', true],
      ['vhost rx vlan (from VM)', 'add id 100 pcp 0', 'add id 100 pcp 0', true],
      ['classifier tx vlan (to VM)', 'del', 'del', true],
    ],
  );
});

test('differences are flagged row by row: another MAC, a VLAN tag missing, a port not attached', (t) => {
  const rows = comparePort(
    port({
      observed: { rule: { mac: 'fa:16:3e:00:00:99', vlan: 100 }, fromVm: { operation: 'none', id: 0, pcp: 0 } },
    }),
  );
  t.deepEqual(
    rows.map((r) => [r.observed, r.same]),
    [
      ['vlan 100 mac fa:16:3e:00:00:99', false],
      ['none', false],
      ['not attached', false],
    ],
  );
});

test('an unplugging port wants its vhost without an entry, its tags left (or reset with --unplug-resets-vlan); idle, invalid and unobserved ports have no rows', (t) => {
  const unplugging = port({
    state: 'unplugging',
    tags: portTags('unplugging'),
    intent: { kind: 'unplug', place },
    observed: { rule: { mac: 'fa:16:3e:00:00:03', vlan: 100 }, fromVm: { operation: 'add', id: 100, pcp: 0 }, toVm: { operation: 'del', id: 0, pcp: 0 } },
  });
  t.deepEqual(
    comparePort(unplugging).map((r) => [r.desired, r.same]),
    [
      ['none', false],
      ['left as is', true],
      ['left as is', true],
    ],
  );
  t.deepEqual(
    comparePort(unplugging, FREE_RESET_TAGS).map((r) => [r.desired, r.same]),
    [
      ['none', false],
      ['none', false],
      ['none', false],
    ],
  );
  const resetView = pageView({
    host: 'spp4',
    vhosts: [],
    revision: 7,
    configuration: 'valid',
    configurationErrors: [],
    nics: [],
    ports: [unplugging],
    unplugResetsVlan: true,
  });
  t.deepEqual(
    resetView.compare.p1!.map((r) => r.same),
    [false, false, false],
    'the page compares as the agent runs',
  );
  t.deepEqual(comparePort(port({ intent: { kind: 'idle', note: 'no action' } })), []);
  t.deepEqual(comparePort(port({ intent: { kind: 'invalid', reason: 'bad', cause: 'input' } })), []);
  t.deepEqual(comparePort(port({})), [], 'nothing observed yet');
  const view = pageView({ host: 'spp4', vhosts: [], revision: 7, configuration: 'valid', configurationErrors: [], nics: [], ports: [port({})] });
  t.deepEqual(Object.keys(view.compare), ['p1']);
  t.is(view.revision, 7);
});
