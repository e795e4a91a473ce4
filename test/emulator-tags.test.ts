/**
 * spp_vf's VLAN tag rules (spec 6.4) in the emulator: settings kept through a
 * component stop, the 8-word add_vlantag form, slots, and a forward count
 * violation. The request/response table is in emulator-rules.test.ts.
 */
import test from 'ava';
import { attach, call, detach, type Step, start, steps, useSim } from './helpers/emulator';

const C = '/v1/vfs/1/components';
const ports = (name: string): string => `/v1/vfs/1/components/${name}/ports`;
const send = (url: string, s: Step): ReturnType<typeof call> => call(url, s[0], s[1], s[2]);
const NONE = { operation: 'none', id: 0, pcp: 0 };

test('VLAN settings survive component stop and reappear on re-attach in the same direction', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [
    start('f', 2, 'forward'),
    attach('f', 'ring:0', 'tx', { operation: 'add', id: 7, pcp: 3 }),
    ['DELETE', `${C}/f`],
    start('g', 3, 'forward'),
    attach('g', 'ring:0', 'tx'),
  ]);
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: Record<string, unknown>[] };
  t.deepEqual(s.components[1]!.tx_port, [{ port: 'ring:0', vlan: { operation: 'add', id: 7, pcp: 3 } }]);
  // port del clears them
  await steps(t, sim.url, [detach('g', 'ring:0', 'tx'), attach('g', 'ring:0', 'tx')]);
  const s2 = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: Record<string, unknown>[] };
  t.deepEqual(s2.components[1]!.tx_port, [{ port: 'ring:0', vlan: NONE }]);
});

test('the 8-word add_vlantag form replaces the vid/pcp of an attached port and skips the in-use checks', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [start('f', 2, 'forward'), start('g', 3, 'forward'), attach('f', 'ring:0', 'tx', { operation: 'add', id: 7, pcp: 3 })]);
  t.deepEqual(
    await call(sim.url, 'PUT', ports('f'), { action: 'attach', port: 'ring:0', dir: 'tx', vlan: { operation: 'add', id: 9, pcp: 1 } }).then((a) => a.status),
    204,
  );
  t.deepEqual(
    await call(sim.url, 'PUT', ports('g'), { action: 'attach', port: 'ring:0', dir: 'tx', vlan: { operation: 'add', id: 9, pcp: 1 } }).then((a) => a.status),
    204,
  );
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: Record<string, unknown>[] };
  t.deepEqual(s.components[0]!.tx_port, [{ port: 'ring:0', vlan: { operation: 'add', id: 9, pcp: 1 } }]);
  t.deepEqual(s.components[1]!.tx_port, [{ port: 'ring:0', vlan: { operation: 'add', id: 9, pcp: 1 } }]);
  // without an add_vlantag setting to replace, the override fails
  const a = await call(sim.url, 'PUT', ports('f'), { action: 'attach', port: 'vhost:0', dir: 'rx' });
  t.is(a.status, 204);
  t.deepEqual(
    await call(sim.url, 'PUT', ports('f'), { action: 'attach', port: 'vhost:0', dir: 'rx', vlan: { operation: 'add', id: 1, pcp: 1 } }).then((x) => [
      x.status,
      x.body,
    ]),
    [400, 'command error: error occur'],
  );
});

test('a forward count violation blocks later pushes of that component until the extra port is detached', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [start('f', 2, 'forward'), attach('f', 'ring:0', 'rx')]);
  t.is((await send(sim.url, attach('f', 'ring:1', 'rx'))).status, 400);
  t.deepEqual(await send(sim.url, attach('f', 'vhost:0', 'tx')).then((a) => [a.status, a.body]), [400, 'command error: error occur']);
  t.is((await send(sim.url, detach('f', 'ring:1', 'rx'))).status, 204);
  const s = JSON.parse((await call(sim.url, 'GET', '/v1/vfs/1')).body) as { components: Record<string, unknown>[] };
  t.deepEqual([s.components[0]!.rx_port, s.components[0]!.tx_port], [[{ port: 'ring:0', vlan: NONE }], [{ port: 'vhost:0', vlan: NONE }]]);
});

/** tx_port (or rx_port) of the component at `index` in a status read over HTTP. */
async function portsOf(url: string, index: number, dir: 'rx_port' | 'tx_port'): Promise<unknown> {
  const s = JSON.parse((await call(url, 'GET', '/v1/vfs/1')).body) as { components: Record<string, unknown>[] };
  return s.components[index]![dir];
}

test('tags (spec 6.4): the 8-word add_vlantag form on a port attached here with del_vlantag fails, it has no add_vlantag setting to replace', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [start('f', 2, 'forward'), attach('f', 'ring:0', 'tx', { operation: 'del' })]);
  t.deepEqual(await send(sim.url, attach('f', 'ring:0', 'tx', { operation: 'add', id: 5, pcp: 0 })).then((a) => [a.status, a.body]), [
    400,
    'command error: error occur',
  ]);
  t.deepEqual(await portsOf(sim.url, 0, 'tx_port'), [{ port: 'ring:0', vlan: { operation: 'del', id: 0, pcp: 0 } }], 'nothing changed');
});

test("tags (spec 6.4): the replaced add_vlantag setting is the port's own, whichever direction set it", async (t) => {
  const sim = await useSim(t);
  // ring:0: rx of f without a tag, tx of g with add_vlantag 7; then the 8-word form on f's rx
  await steps(t, sim.url, [
    start('f', 2, 'forward'),
    start('g', 3, 'forward'),
    attach('f', 'ring:0', 'rx'),
    attach('g', 'ring:0', 'tx', { operation: 'add', id: 7, pcp: 0 }),
  ]);
  t.is((await send(sim.url, attach('f', 'ring:0', 'rx', { operation: 'add', id: 9, pcp: 2 }))).status, 204);
  t.deepEqual(await portsOf(sim.url, 1, 'tx_port'), [{ port: 'ring:0', vlan: { operation: 'add', id: 9, pcp: 2 } }], 'its vid/pcp replaced');
  t.deepEqual(await portsOf(sim.url, 0, 'rx_port'), [{ port: 'ring:0', vlan: NONE }], 'the rx side still has no setting');
});

test('tags (spec 6.4): port add with add_vlantag on a port that kept tags through a component stop takes another slot; the first setting is the one shown', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [
    start('f', 2, 'forward'),
    attach('f', 'ring:0', 'tx', { operation: 'add', id: 7, pcp: 0 }),
    ['DELETE', `${C}/f`],
    start('g', 3, 'forward'),
  ]);
  // not attached in g: the normal add, which needs a free setting slot
  t.is((await send(sim.url, attach('g', 'ring:0', 'tx', { operation: 'add', id: 9, pcp: 0 }))).status, 204);
  t.deepEqual(await portsOf(sim.url, 1, 'tx_port'), [{ port: 'ring:0', vlan: { operation: 'add', id: 7, pcp: 0 } }]);
  // 2 of the port's 4 slots are used: two more settings fit (the 8-word form skips the in-use checks), the fifth does not
  await steps(t, sim.url, [
    start('h', 4, 'forward'),
    attach('h', 'ring:0', 'rx', { operation: 'add', id: 1, pcp: 0 }),
    start('i', 5, 'merge'),
    attach('i', 'ring:0', 'rx', { operation: 'add', id: 2, pcp: 0 }),
  ]);
  await steps(t, sim.url, [start('j', 6, 'merge')]);
  t.deepEqual(await send(sim.url, attach('j', 'ring:0', 'rx', { operation: 'add', id: 3, pcp: 0 })).then((a) => [a.status, a.body]), [
    400,
    'command error: error occur',
  ]);
});

test('tags (spec 6.4): port del of a port that is not attached still clears its settings for that direction', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [
    start('f', 2, 'forward'),
    attach('f', 'ring:0', 'tx', { operation: 'add', id: 7, pcp: 3 }),
    attach('f', 'ring:0', 'rx', { operation: 'del' }),
    ['DELETE', `${C}/f`],
    start('g', 3, 'forward'),
    // ring:0 is attached nowhere now; the del succeeds and clears its tx setting only
    detach('g', 'ring:0', 'tx'),
    attach('g', 'ring:0', 'tx'),
    attach('g', 'ring:0', 'rx'),
  ]);
  t.deepEqual(await portsOf(sim.url, 1, 'tx_port'), [{ port: 'ring:0', vlan: NONE }]);
  t.deepEqual(await portsOf(sim.url, 1, 'rx_port'), [{ port: 'ring:0', vlan: { operation: 'del', id: 0, pcp: 0 } }], 'the rx setting survived');
});
