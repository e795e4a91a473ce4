/**
 * issue 20, defect 2: values from etcd are bounded before they are parsed,
 * printed or logged. Nested 10,000 and 100,000 deep, 1 MB and 10 MB: each a
 * clear error naming the key and the limit, the agent (a child process)
 * still running, and a valid port bound at the same time up. The test's etcd
 * takes requests of up to 16 MiB (its default is 1.5 MiB, so a 10 MB value
 * needs --max-request-bytes raised), and the agent must still read a 10 MB
 * watch event (gRPC's default receive limit is 4 MiB).
 */
import test from 'ava';
import { keys } from '../src/protocol/keys';
import { MAX_JSON_DEPTH, VALUE_LIMITS } from '../src/protocol/limits';
import { pyBind, waitForValue, waitUp } from './helpers/neutron';
import { type System, startSystem, until } from './helpers/system';
import { sleep } from './helpers/wait';

const ETCD_ARGS = ['--max-request-bytes', String(16 * 1024 * 1024)];
const MB = 1024 * 1024;

const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
const padded = (bytes: number): string => {
  const head = '{"vhost_id": 0, "mac_address": "';
  return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
};

const DEPTH = new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`);
/** 10,000 levels are 20 KB: over bind_port's size limit, under configuration's; either limit is a clear refusal. */
const DEPTH_OR_SIZE = new RegExp(`${DEPTH.source}|value is [0-9]+ bytes; a [a-z_]+ value may have at most [0-9]+ bytes`);
const bindSize = (bytes: number): RegExp => new RegExp(`value is ${bytes} bytes; a bind_port value may have at most ${VALUE_LIMITS.bind_port} bytes`);
const configSize = (bytes: number): RegExp => new RegExp(`value is ${bytes} bytes; a configuration value may have at most ${VALUE_LIMITS.configuration} bytes`);

const BAD_BINDS: Array<{ port: string; value: string; expect: RegExp }> = [
  { port: 'deep-1000', value: nested(1000), expect: DEPTH },
  { port: 'deep-10k', value: nested(10_000), expect: DEPTH_OR_SIZE },
  { port: 'deep-100k', value: nested(100_000), expect: DEPTH_OR_SIZE },
  { port: 'deep-objects', value: `{"vhost_id": ${'{"a": '.repeat(500)}1${'}'.repeat(500)}, "mac_address": "fa:16:3e:00:30:09"}`, expect: DEPTH },
  { port: 'size-1m', value: padded(MB), expect: bindSize(MB) },
  { port: 'size-10m', value: padded(10 * MB), expect: bindSize(10 * MB) },
  {
    port: 'vhost-1e400',
    value: '{"vhost_id": 1e400, "mac_address": "fa:16:3e:00:30:08"}',
    expect: /field vhost_id: the number 1e400 is beyond the range of a number/,
  },
];

const alive = (s: System): boolean => s.child !== undefined && s.child.exitCode === null && s.child.signalCode === null;

test('bind_port values nested 10,000 / 100,000 deep, of 1 MB / 10 MB, and vhost_id 1e400: each port gets a clear error, the agent keeps running, a valid port bound at the same time comes up', async (t) => {
  const s = await startSystem(t, { agent: false, etcdArgs: ETCD_ARGS });
  s.spawnAgent();
  const good = { portId: 'f0000000-0000-0000-0000-000000000001', vhostId: 1, phys: 'phys1', mac: 'fa:16:3e:00:30:01' };
  await Promise.all([
    pyBind(s.client, s.host, good),
    ...BAD_BINDS.map(async (c) => {
      await s.client.put(keys.bindPort(s.host, c.port)).value(c.value);
      await s.client.put(keys.action(s.host, c.port)).value('plug');
    }),
  ]);
  await waitUp(s.client, s.host, good.portId, 20_000);
  for (const c of BAD_BINDS) {
    const status = await waitForValue(s.client, keys.portStatus(s.host, c.port), (v) => v !== undefined, 20_000);
    t.true(status!.startsWith(`error: ${keys.bindPort(s.host, c.port)}: `), `${c.port}: ${status}`);
    t.regex(status!, c.expect, c.port);
    t.true(status!.length < 600, `${c.port}: bounded`);
  }
  t.true(alive(s), `the agent is still running: ${s.childOutput.slice(-1500)}`);
  t.notRegex(s.childOutput, /RangeError|Maximum call stack/);
  t.deepEqual((await s.vfStatus(1)).classifier_table, [{ type: 'mac', value: 'FA:16:3E:00:30:01', port: 'ring:2' }]);
  // a restart with the bad values still in etcd (the crash loop of the report) lists them and serves the host
  await s.killChild('SIGTERM');
  s.childOutput = '';
  s.spawnAgent();
  await until(() => /"message":"port is up"/.test(s.childOutput), 'the restarted agent re-announces the good port', 20_000);
  t.true(alive(s), s.childOutput.slice(-1500));
});

const BAD_CONFIGS: Array<{ name: string; value: string; expect: RegExp }> = [
  { name: 'nested 10,000 deep', value: nested(10_000), expect: DEPTH },
  { name: 'nested 100,000 deep', value: nested(100_000), expect: DEPTH_OR_SIZE },
  { name: '1 MB', value: `[${' '.repeat(MB - 2)}]`, expect: configSize(MB) },
  { name: '10 MB', value: `[${' '.repeat(10 * MB - 2)}]`, expect: configSize(10 * MB) },
];

test('configuration values nested 10,000 / 100,000 deep, of 1 MB / 10 MB: each "invalid configuration" naming the key and limit, the running layout kept, the agent running, a valid port bound at the same time comes up', async (t) => {
  const s = await startSystem(t, { agent: false, etcdArgs: ETCD_ARGS });
  s.spawnAgent();
  const configKey = keys.configuration(s.host);
  const goodConfig = (await s.client.get(configKey).string())!;
  await until(() => /"state":"running"/.test(s.childOutput), 'the agent running with the good configuration', 20_000);
  const ports = [0, 1, 2, 3].map((i) => ({
    portId: `f1000000-0000-0000-0000-00000000000${i}`,
    vhostId: i,
    phys: i < 2 ? 'phys1' : 'phys2',
    mac: `fa:16:3e:00:31:0${i}`,
  }));
  for (const [i, c] of BAD_CONFIGS.entries()) {
    const seen = s.childOutput.length;
    await Promise.all([s.client.put(configKey).value(c.value), pyBind(s.client, s.host, ports[i]!)]);
    await waitUp(s.client, s.host, ports[i]!.portId, 20_000).catch((err: Error) => t.fail(`${c.name}: ${err.message}\n${s.childOutput.slice(-3000)}`));
    const line = await until(
      () =>
        s.childOutput
          .slice(seen)
          .split('\n')
          .find((l) => l.includes('"message":"invalid host configuration"')),
      `${c.name}: invalid configuration logged`,
      20_000,
    );
    const rec = JSON.parse(line) as Record<string, unknown>;
    t.is(rec.key, configKey);
    t.regex(String(rec.error), c.expect, c.name);
    t.regex(String(rec.error), new RegExp(`^${configKey}: `));
    t.is(rec.keeping, 'running layout');
    t.true(alive(s), `${c.name}: ${s.childOutput.slice(-1500)}`);
  }
  t.notRegex(s.childOutput, /RangeError|Maximum call stack/);
  t.is((await s.vfStatus(1)).classifier_table.length, 2);
  t.is((await s.vfStatus(2)).classifier_table.length, 2);
  // an agent started while the configuration is bad waits for a good one instead of crash-looping
  await s.client.put(configKey).value(nested(100_000));
  await s.killChild('SIGTERM');
  s.childOutput = '';
  s.spawnAgent();
  await until(() => /"message":"invalid host configuration"/.test(s.childOutput), 'the restarted agent reports the configuration', 20_000);
  await sleep(500);
  t.true(alive(s), s.childOutput.slice(-1500));
  await s.client.put(configKey).value(goodConfig);
  await until(() => /"message":"port is up"/.test(s.childOutput), 'a good configuration brings the host back', 20_000);
  t.true(alive(s));
});
