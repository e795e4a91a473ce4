import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import test from 'ava';
import { nicsReady, startSystem } from './helpers/system';

test('agent --ui on an address in use: the error is logged and the agent runs without the page', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const port = (blocker.address() as AddressInfo).port;
  const s = await startSystem(t, { settings: { ui: `127.0.0.1:${port}` } });
  t.is(await s.agent!.viz, undefined);
  const logged = s.logs.find((l) => l.message === 'visualizer could not listen; running without it');
  t.truthy(logged);
  t.is(logged?.ui, `127.0.0.1:${port}`);
  t.regex(String(logged?.error), /EADDRINUSE/);
  await nicsReady(s);
});

test('agent without --ui serves no page', async (t) => {
  const s = await startSystem(t);
  t.is(s.agent!.viz, undefined);
  t.false(s.logs.some((l) => String(l.message).startsWith('visualizer')));
});
