/**
 * Issue 26, section 4: control characters from etcd. Keys with them are
 * refused (logged once, naming the key, never plugged); stray keys with
 * extra path segments are logged once; and text from etcd printed on a
 * terminal (pretty and JSON logs, `spp status`, `port list`, `config show`,
 * `explain`) carries no control character.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import { createLogger } from '../src/log';
import { keys, ROOT } from '../src/protocol/keys';
import { CONTROL_CHARACTER } from '../src/protocol/printable';
import { runCli } from './helpers/cli';
import { pyBind, waitUp } from './helpers/neutron';
import { classified, startSystem, until } from './helpers/system';

const GOOD = { portId: 'e0000000-0000-0000-0000-000000000001', vhostId: 0, phys: 'phys1', mac: 'fa:16:3e:00:00:31' };
/** Clears the screen, then starts what looks like a log line of its own. */
const FORGED = 'evil\u001b[2J\n2026-01-01T00:00:00.000Z INFO  port is up  port=forged';
// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for control characters
const NO_CONTROLS = /^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$/;

/** Lines a writable stream received. */
function capture(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

test('a key with a control character is refused and logged once naming it escaped; a key with extra segments once as stray; neither is acted on', async (t) => {
  const s = await startSystem(t);
  const forgedBind = keys.bindPort(s.host, 'x').replace(/x$/, FORGED);
  const forgedAction = keys.action(s.host, 'x').replace(/x$/, FORGED);
  const extraBind = `${keys.bindPort(s.host, GOOD.portId)}/extra`;
  const extraVhost = `${keys.vhost(s.host, 'phys1', 1)}/x`;
  await s.client.put(forgedBind).value(JSON.stringify({ vhost_id: 1, mac_address: 'fa:16:3e:00:00:32' }));
  await s.client.put(forgedAction).value('plug');
  await s.client.put(extraBind).value('{}');
  await s.client.put(extraVhost).value(GOOD.portId);
  await pyBind(s.client, s.host, GOOD);
  await waitUp(s.client, s.host, GOOD.portId);
  const strayLogs = (): Array<Record<string, unknown>> =>
    s.logs.filter((r) => r.message === 'refused a key with a control character' || r.message === 'ignoring a stray key');
  await until(() => strayLogs().length >= 4, 'the four keys logged');
  // the same keys written again: not logged again
  await s.client.put(forgedAction).value('plug');
  await s.client.put(extraBind).value('{"again": true}');
  await pyBind(s.client, s.host, { ...GOOD, portId: 'e0000000-0000-0000-0000-000000000002', vhostId: 2, phys: 'phys2', mac: 'fa:16:3e:00:00:33' });
  await waitUp(s.client, s.host, 'e0000000-0000-0000-0000-000000000002');
  const logged = strayLogs();
  t.is(logged.length, 4, 'each key logged once');
  const byKey = new Map(logged.map((r) => [String(r.key), r]));
  const escaped = (key: string): string => key.replace('\u001b', '\\x1b').replace('\n', '\\n');
  for (const key of [forgedBind, forgedAction]) {
    const r = byKey.get(escaped(key));
    t.truthy(r, `logged: ${escaped(key)}`);
    t.is(r?.level, 'error');
    t.regex(String(r?.error), /a key segment holds the control character \\x1b; refused/);
  }
  for (const key of [extraBind, extraVhost]) {
    const r = byKey.get(key);
    t.is(r?.level, 'warn', key);
    t.regex(String(r?.error), /1 path segment\(s\) more than a (bind_port|vhost) key has; ignored as stray/);
  }
  for (const r of logged) t.regex(String(r.key), NO_CONTROLS);
  // never acted on: no machine, no port_status, no classifier entry for it
  t.false(s.agent!.controller.view().ports.some((p) => p.portId.includes('evil')));
  const statuses = await s.client.getAll().prefix(keys.portStatus(s.host, 'x').replace(/x$/, '')).keys();
  t.deepEqual(statuses.sort(), [keys.portStatus(s.host, GOOD.portId), keys.portStatus(s.host, 'e0000000-0000-0000-0000-000000000002')].sort());
  t.deepEqual((await classified(s)).length, 2, 'only the two valid ports are in the classifiers');
  t.is(await s.client.get(extraVhost).string(), GOOD.portId, 'a stray key is left as it is');
});

test('spp status, config show, port list and explain print etcd text with every control character escaped', async (t) => {
  const s = await startSystem(t, { agent: false });
  const endpoints = ['--etcd-endpoints', s.etcd.endpoints.join(',')];
  const bad = 'p\u009b31mred\u007f';
  await s.client.put(keys.vhost(s.host, 'phys1', 0)).value(`owner\u001b[31m\u009b2J`);
  await s.client.put(keys.bindPort(s.host, 'port-a')).value(JSON.stringify({ vhost_id: 1, mac_address: `fa:16\u001b[5m\u009b` }));
  await s.client.put(keys.action(s.host, 'port-a')).value(`plug\u009b`);
  await s.client.put(keys.portStatus(s.host, 'port-a')).value(`error: ${bad}\nforged line`);
  await s.client.put(`${ROOT}bind_port/${s.host}/${FORGED}`).value('{}');
  await s.client.put(`${ROOT}agent/${s.host}`).value(JSON.stringify({ pid: 1, version: `v\u009b1`, started_at: 'now\u001b[2J' }));
  const runs = {
    status: await runCli(['status', ...endpoints]),
    'status --host': await runCli(['status', '--host', s.host, ...endpoints]),
    'config show': await runCli(['config', 'show', '--host', s.host, ...endpoints]),
    'port list': await runCli(['port', 'list', '--host', s.host, ...endpoints]),
    explain: await runCli(['explain', '--host', s.host, '--port-id', 'port-a', ...endpoints]),
  };
  for (const [name, r] of Object.entries(runs)) {
    t.regex(r.out, NO_CONTROLS, `${name}: stdout has no control character but newlines`);
    t.regex(r.err, NO_CONTROLS, `${name}: stderr neither`);
    t.true(r.out.length > 0, `${name} printed something`);
    t.notRegex(r.out, /^forged line/m, `${name}: no forged line of its own`);
  }
  t.regex(runs.status.out, /\\x9b/, 'status shows a C1 control as an escape');
  t.regex(runs.status.out, /bind_port\/spp4\/evil\\x1b\[2J\\n2026.*a key segment holds the control character \\x1b; refused/, 'and the refused key, escaped');
  t.regex(runs['config show'].out, /owner\\x1b\[31m\\x9b2J|INVALID/);
  t.regex(runs['port list'].out, /\\x9b|\\u009b/);
  t.regex(runs.explain.out, /\\x1b|\\u001b|\\x9b/);
});

test("spp port bind prints an agent's error from etcd escaped", async (t) => {
  const s = await startSystem(t, { agent: false });
  const portId = 'e0000000-0000-0000-0000-000000000009';
  const endpoints = ['--etcd-endpoints', s.etcd.endpoints.join(',')];
  const bind = runCli([
    'port',
    'bind',
    '--host',
    s.host,
    '--port-id',
    portId,
    '--mac',
    'fa:16:3e:00:00:39',
    '--phys',
    'phys1',
    '--skip-liveness-check',
    '--timeout',
    '10',
    ...endpoints,
  ]);
  // a stand-in for an agent: it answers the plug with an error holding a C1 CSI and a newline
  await until(() => s.client.get(keys.action(s.host, portId)).exists(), 'the action written');
  await s.client.put(keys.portStatus(s.host, portId)).value('error: bad\u009b2J\nforged line');
  const r = await bind;
  t.is(r.code, 1);
  t.regex(r.err, /bad\\x9b2J\\nforged line/);
  t.regex(r.err, NO_CONTROLS);
  t.notRegex(r.err, /^forged line/m);
});

test('pretty logs are one line per record with controls escaped; JSON logs escape DEL and C1 too and still parse to the same value', (t) => {
  const pretty = capture();
  createLogger({ format: 'pretty', stream: pretty.stream }).warn(`stray ${FORGED}`, { key: FORGED, owner: 'a\u009bb', n: 1 });
  const lines = pretty
    .text()
    .split('\n')
    .filter((l) => l !== '');
  t.is(lines.length, 1, 'one record, one line');
  t.regex(lines[0]!, NO_CONTROLS);
  t.notRegex(lines[0]!, CONTROL_CHARACTER);
  t.regex(lines[0]!, /stray evil\\x1b\[2J\\n2026/);
  t.regex(lines[0]!, /owner=a\\x9bb/);
  const json = capture();
  createLogger({ format: 'json', stream: json.stream }).warn('m', { key: FORGED, owner: 'a\u009bb\u007f\u2028' });
  const line = json.text().trimEnd();
  t.false(line.includes('\n'));
  t.notRegex(line, CONTROL_CHARACTER);
  t.notRegex(line, /\u2028/);
  const parsed = JSON.parse(line) as Record<string, unknown>;
  t.is(parsed.key, FORGED);
  t.is(parsed.owner, 'a\u009bb\u007f\u2028');
});
