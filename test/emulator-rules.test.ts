/**
 * One case per rule of spec/spp-ctl.md, against the emulator over real HTTP:
 * the exact status code and body (and content type) of spp-ctl's answer.
 * Unless a case says `lenient`, the emulator runs in its default (observed) mode.
 */
import test from 'ava';
import { call, classify, pyDumps, SECTION5_STATUS, SEED_LAYOUT, steps, useSim } from './helpers/emulator';
import { cases } from './helpers/emulator-cases';

for (const c of cases) {
  test(`${c.lenient ? '[lenient] ' : ''}${c.name}`, async (t) => {
    const sim = await useSim(t, { lenient: c.lenient === true });
    await steps(t, sim.url, c.setup ?? []);
    const [method, path, body] = c.req;
    const a = await call(sim.url, method, path, body, c.contentType);
    t.deepEqual([a.status, a.body], [...c.expect], `${method} ${path} ${JSON.stringify(body)}`);
    if (a.status === 204) t.is(a.contentType, null, '204 has no Content-Type');
    else if (a.status === 200) t.is(a.contentType, 'application/json');
    else t.is(a.contentType, 'text/plain');
    if (c.look) {
      const s = await call(sim.url, 'GET', '/v1/vfs/1');
      t.is(s.status, 200);
      t.deepEqual(c.look(JSON.parse(s.body) as Record<string, unknown>), c.lookExpect);
    }
  });
}

test('the seed layout gives exactly the status of spec section 5, one line with Python separators', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [...SEED_LAYOUT, classify('add', '12:ab:34:cd:56:ef', 'ring:0')]);
  const a = await call(sim.url, 'GET', '/v1/vfs/1');
  t.is(a.status, 200);
  t.is(a.contentType, 'application/json');
  t.deepEqual(JSON.parse(a.body), SECTION5_STATUS);
  t.is(a.body, pyDumps(SECTION5_STATUS));
  t.false(a.body.includes('\n'));
  t.true(a.body.startsWith('{"client-id": 1, "ports": ["phy:0", "vhost:0"'));
  t.deepEqual(sim.emulator.vf(1).status(), SECTION5_STATUS as never);
});

test('spp_vf raw status reply has its own spacing and is about 1.8 KB for the seed layout', async (t) => {
  const sim = await useSim(t);
  await steps(t, sim.url, [...SEED_LAYOUT, classify('add', '12:ab:34:cd:56:ef', 'ring:0')]);
  const raw = sim.emulator.vf(1).reply('status')!;
  t.true(
    raw.startsWith(
      '{ "results": [ { "result": "success" } ], "info": { "client-id": 1, "phy": [ 0 ], "vhost": [ 0, 1 ], "ring": [ 0, 1, 2, 3 ], "core": [ { "core": 2, "name": ',
    ),
  );
  t.true(raw.length > 1700 && raw.length < 1900, `raw length ${raw.length}`);
});
