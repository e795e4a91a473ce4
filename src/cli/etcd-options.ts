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
  settingLabel,
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

/**
 * Flags over environment; a setting that does not work (an endpoint without
 * a port, a missing password, an unreadable file) is a usage error naming
 * where the value came from: `flag --etcd-endpoints` or `variable SPP_ETCD_ENDPOINTS`.
 */
export function etcdConnectOptions(values: Values, env: NodeJS.ProcessEnv): EtcdConnectOptions {
  const flags = etcdSettingsFromFlags(values);
  const fromEnv = etcdSettingsFromEnv(env);
  const label = (name: EtcdSettingName): string => {
    const spec: EtcdSettingSpec = ETCD_SETTINGS[name];
    if (flags[name] !== undefined && spec.flag) return `flag --${spec.flag}`;
    return fromEnv[name] !== undefined ? `variable ${spec.env}` : settingLabel(name);
  };
  try {
    return resolveEtcdSettings({ ...fromEnv, ...flags }, label);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
