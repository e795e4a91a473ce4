/**
 * --unplug-resets-vlan from each source (flag, SPP_UNPLUG_RESETS_VLAN, ini
 * unplug_resets_vlan), its default, a bad value, and its help.
 */

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { fromEnv, fromIniFile, resolveSettings } from '../src/daemon/settings';
import { runCli } from './helpers/cli';

test('off by default; on from the environment or the ini file; flags and env win over the ini', (t) => {
  t.false(resolveSettings({ host: 'h' }).unplugResetsVlan);
  t.true(resolveSettings({ host: 'h' }, fromEnv({ SPP_UNPLUG_RESETS_VLAN: 'true' })).unplugResetsVlan);
  t.true(resolveSettings({ host: 'h' }, fromEnv({ SPP_UNPLUG_RESETS_VLAN: 'Yes' })).unplugResetsVlan);
  t.false(resolveSettings({ host: 'h' }, fromEnv({ SPP_UNPLUG_RESETS_VLAN: '0' })).unplugResetsVlan);
  const ini = join(mkdtempSync(join(tmpdir(), 'spp-ini-')), 'agent.ini');
  writeFileSync(ini, '[DEFAULT]\nhost = h\n[spp]\nunplug_resets_vlan = true\n');
  t.true(resolveSettings(fromIniFile(ini)).unplugResetsVlan);
  t.false(resolveSettings(fromIniFile(ini), fromEnv({ SPP_UNPLUG_RESETS_VLAN: 'false' })).unplugResetsVlan);
});

test('a value that is not a boolean names the setting and its variable', (t) => {
  const err = t.throws(() => resolveSettings({ host: 'h', unplugResetsVlan: 'maybe' }));
  t.is(err?.message, 'unplug-resets-vlan (SPP_UNPLUG_RESETS_VLAN): expected true or false, got "maybe"');
});

test('spp agent --help explains the option and who needs it', async (t) => {
  const help = await runCli(['agent', '--help']);
  t.is(help.code, 0);
  const text = help.out.replace(/\s+/g, ' ');
  t.regex(text, /--unplug-resets-vlan/);
  t.regex(text, /original Python agent/);
  t.regex(text, /flat plug does not remove leftover tags/);
  const bad = await runCli(['agent', '--host', 'h', '--spp-ctl', 'http://127.0.0.1:1'], { SPP_UNPLUG_RESETS_VLAN: 'sometimes' });
  t.is(bad.code, 2);
  t.regex(bad.err, /SPP_UNPLUG_RESETS_VLAN/);
});
