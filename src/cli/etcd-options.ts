/**
 * The etcd options of every `spp` command that talks to etcd, from the one
 * table in src/etcd/connect-settings.ts: flags win over SPP_ETCD_*
 * environment variables.
 */
import type { EtcdConnectOptions } from '../etcd/connect';
import {
  ETCD_SETTINGS,
  type EtcdRawSettings,
  type EtcdSettingName,
  type EtcdSettingSpec,
  etcdSettingsFromEnv,
  resolveEtcdSettings,
} from '../etcd/connect-settings';
import { type OptionSpec, str, UsageError, type Values } from './framework';

const specs = Object.entries(ETCD_SETTINGS) as Array<[EtcdSettingName, EtcdSettingSpec]>;

export const etcdOptions: Record<string, OptionSpec> = Object.fromEntries(
  specs.flatMap(([, spec]) => (spec.flag ? [[spec.flag, { type: 'string', arg: spec.arg, help: `${spec.help} (env ${spec.env})` }]] : [])),
);

/** The settings given as flags, by setting name. */
function etcdSettingsFromFlags(values: Values): EtcdRawSettings {
  const out: EtcdRawSettings = {};
  for (const [name, spec] of specs) {
    const v = spec.flag ? str(values, spec.flag) : undefined;
    if (v !== undefined) out[name] = v;
  }
  return out;
}

/** Flags over environment; a setting that does not work (missing password, unreadable file) is a usage error. */
export function etcdConnectOptions(values: Values, env: NodeJS.ProcessEnv): EtcdConnectOptions {
  try {
    return resolveEtcdSettings({ ...etcdSettingsFromEnv(env), ...etcdSettingsFromFlags(values) });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
