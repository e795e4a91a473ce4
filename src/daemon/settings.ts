/**
 * Agent settings from three sources, in increasing precedence: the ini file
 * of the original agent, SPP_* environment variables, command-line flags.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { DEFAULT_PORT_TIMERS } from '../../machines/port';
import type { EtcdConnectOptions } from '../etcd/connect';
import { ETCD_SETTINGS, type EtcdSettingName, resolveEtcdSettings, settingLabel } from '../etcd/connect-settings';
import { parseAllowHosts } from '../http-guard';
import { parseListen } from '../listen';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../log';
import { hostProblem } from '../protocol/keys';
import { printable } from '../protocol/printable';
import { closest } from '../suggest';
import { parseIni } from './ini';

export interface AgentSettings {
  readonly host: string;
  readonly etcd: EtcdConnectOptions;
  readonly sppCtlUrl: string;
  readonly sppCtlTimeoutMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly resyncIntervalMs: number;
  /** Delays after a plug at which `up` is put again (driver race); empty: off. */
  readonly reassertMs: readonly number[];
  readonly leaseTtlSec: number;
  /** No answer to the agent's etcd client for this long while etcd answers a new one: exit (src/daemon/etcd-watchdog.ts); undefined: off. */
  readonly etcdWatchdogMs?: number;
  readonly record?: string;
  /** host:port of the read-only visualizer, off when undefined. */
  readonly ui?: string;
  /** host:port of the ops endpoint (/metrics, /livez, /readyz), off when undefined. */
  readonly ops?: string;
  /** Host names the page and the ops endpoint answer to besides their address and the loopback names. */
  readonly allowHosts?: readonly string[];
  /** Unplug resets a vhost's VLAN tags as the original agent does (for nodes that may go back to it). */
  readonly unplugResetsVlan: boolean;
}

/** The watchdog's default bound: several times the 10-15 s a client takes to recover from an outage. */
export const DEFAULT_ETCD_WATCHDOG_SEC = 60;
/** Shorter would fire on a call that is merely slow (the call deadline is 5 s). */
export const MIN_ETCD_WATCHDOG_SEC = 6;

/** Raw values by setting name, as each source gives them. */
export type RawSettings = Partial<Record<keyof typeof SETTING_ENV, string>>;

/** The environment variable of each setting. */
export const SETTING_ENV = {
  host: 'SPP_HOST',
  etcdEndpoints: ETCD_SETTINGS.endpoints.env,
  etcdCaFile: ETCD_SETTINGS.caFile.env,
  etcdCertFile: ETCD_SETTINGS.certFile.env,
  etcdKeyFile: ETCD_SETTINGS.keyFile.env,
  etcdUser: ETCD_SETTINGS.user.env,
  etcdPassword: ETCD_SETTINGS.password.env,
  etcdPasswordFile: ETCD_SETTINGS.passwordFile.env,
  sppCtl: 'SPP_CTL_URL',
  sppCtlTimeout: 'SPP_CTL_TIMEOUT',
  logLevel: 'SPP_LOG_LEVEL',
  logFormat: 'SPP_LOG_FORMAT',
  resyncInterval: 'SPP_RESYNC_INTERVAL',
  reassert: 'SPP_REASSERT_UP',
  leaseTtl: 'SPP_LEASE_TTL',
  etcdWatchdog: 'SPP_ETCD_WATCHDOG',
  record: 'SPP_RECORD',
  ui: 'SPP_UI',
  ops: 'SPP_OPS',
  allowHost: 'SPP_ALLOW_HOST',
  unplugResetsVlan: 'SPP_UNPLUG_RESETS_VLAN',
} as const;

export type SettingName = keyof RawSettings;

/**
 * Where each value of a source came from, for the messages of
 * resolveSettings: `flag --lease-ttl`, `variable SPP_LEASE_TTL`,
 * `/etc/neutron/spp.ini:spp.lease_ttl`. Kept beside the values (not in them)
 * so that a source stays a plain RawSettings.
 */
const ORIGINS = new WeakMap<RawSettings, Partial<Record<SettingName, string>>>();

/** `values`, with the origin of each of its settings remembered for messages. */
export function withOrigins(values: RawSettings, origins: Partial<Record<SettingName, string>>): RawSettings {
  ORIGINS.set(values, origins);
  return values;
}

export function fromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const out: RawSettings = {};
  const origins: Partial<Record<SettingName, string>> = {};
  for (const [name, variable] of Object.entries(SETTING_ENV) as Array<[SettingName, string]>) {
    const v = env[variable];
    if (v !== undefined && v !== '') {
      out[name] = v;
      origins[name] = `variable ${variable}`;
    }
  }
  return withOrigins(out, origins);
}

/** A TCP port as the ini writes it: 1-65535, digits only. */
function iniPort(value: string | undefined, origin: string): string | undefined {
  if (value === undefined) return undefined;
  const n = /^[0-9]{1,5}$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new Error(`${origin}: expected a port number 1-65535, got ${JSON.stringify(value)}`);
  return value;
}

/** Reads the original agent's ini: [DEFAULT] host; [spp] etcd_host, etcd_port, api_ip_addr, api_port (+ our extensions). */
export function fromIniFile(path: string): RawSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read --config-file ${path}: ${(err as Error).message}`);
  }
  const ini = parseIni(text, path);
  const d = ini.DEFAULT ?? {};
  const spp = ini.spp ?? {};
  const out: RawSettings = {};
  const origins: Partial<Record<SettingName, string>> = {};
  const at = (section: string, ...keys: string[]): string => `${path}:${keys.map((k) => `${section}.${k}`).join(', ')}`;
  if (d.host !== undefined) {
    out.host = d.host;
    origins.host = at('DEFAULT', 'host');
  }
  const etcdPort = iniPort(spp.etcd_port, at('spp', 'etcd_port'));
  const apiPort = iniPort(spp.api_port, at('spp', 'api_port'));
  if (spp.etcd_host !== undefined || etcdPort !== undefined) {
    out.etcdEndpoints = `${spp.etcd_host ?? '127.0.0.1'}:${etcdPort ?? '2379'}`;
    origins.etcdEndpoints = at('spp', ...['etcd_host', 'etcd_port'].filter((k) => spp[k] !== undefined));
  }
  if (spp[ETCD_SETTINGS.endpoints.ini] !== undefined) {
    out.etcdEndpoints = spp[ETCD_SETTINGS.endpoints.ini];
    origins.etcdEndpoints = at('spp', ETCD_SETTINGS.endpoints.ini);
  }
  if (spp.api_ip_addr !== undefined || apiPort !== undefined) {
    out.sppCtl = `http://${spp.api_ip_addr ?? '127.0.0.1'}:${apiPort ?? '7777'}`;
    origins.sppCtl = at('spp', ...['api_ip_addr', 'api_port'].filter((k) => spp[k] !== undefined));
  }
  const ext: Array<[keyof RawSettings, string]> = [
    ['etcdCaFile', ETCD_SETTINGS.caFile.ini],
    ['etcdCertFile', ETCD_SETTINGS.certFile.ini],
    ['etcdKeyFile', ETCD_SETTINGS.keyFile.ini],
    ['etcdUser', ETCD_SETTINGS.user.ini],
    ['etcdPassword', ETCD_SETTINGS.password.ini],
    ['etcdPasswordFile', ETCD_SETTINGS.passwordFile.ini],
    ['resyncInterval', 'resync_interval'],
    ['reassert', 'reassert_up'],
    ['leaseTtl', 'lease_ttl'],
    ['etcdWatchdog', 'etcd_watchdog'],
    ['unplugResetsVlan', 'unplug_resets_vlan'],
    ['ops', 'ops'],
    ['allowHost', 'allow_host'],
  ];
  for (const [name, key] of ext) {
    if (spp[key] === undefined) continue;
    out[name] = spp[key];
    origins[name] = at('spp', key);
  }
  // [spp] may hold keys of other programs (the ini is neutron's), but one a letter or two from ours is a typo that would be ignored silently
  const known = ['etcd_host', 'etcd_port', 'api_ip_addr', 'api_port', ETCD_SETTINGS.endpoints.ini, ...ext.map(([, key]) => key)];
  for (const key of Object.keys(spp)) {
    const near = known.includes(key) ? undefined : closest(key, known);
    if (near !== undefined) throw new Error(`${at('spp', key)}: unknown setting (did you mean ${near}?)`);
  }
  return withOrigins(out, origins);
}

/** The etcd settings' names among the agent's. */
const ETCD_NAMES: Record<EtcdSettingName, SettingName> = {
  endpoints: 'etcdEndpoints',
  caFile: 'etcdCaFile',
  certFile: 'etcdCertFile',
  keyFile: 'etcdKeyFile',
  user: 'etcdUser',
  password: 'etcdPassword',
  passwordFile: 'etcdPasswordFile',
};

/** Merges the sources (later wins) and checks every value, naming the setting and its source variable. */
export function resolveSettings(...sources: RawSettings[]): AgentSettings {
  const raw: RawSettings = Object.assign({}, ...sources);
  /** The source of the value that won (the last source that has it); without a known origin, the setting's variable. */
  const origin = (name: SettingName): string => {
    const winner = [...sources].reverse().find((s) => s[name] !== undefined);
    return (winner && ORIGINS.get(winner)?.[name]) ?? SETTING_ENV[name];
  };
  const seconds = (name: SettingName, fallback: number, min: number): number => {
    const v = raw[name];
    if (v === undefined) return fallback;
    const n = v.trim() === '' ? NaN : Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} (${origin(name)}): expected a number of seconds >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const logLevel = (raw.logLevel ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new Error(`log level (${origin('logLevel')}): expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw.logLevel)}`);
  const logFormat = (raw.logFormat ?? 'json') as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty')
    throw new Error(`log format (${origin('logFormat')}): expected json or pretty, got ${JSON.stringify(raw.logFormat)}`);
  const sppCtlUrl = (raw.sppCtl ?? 'http://127.0.0.1:7777').replace(/\/+$/, '');
  const urlProblem = sppCtlUrlProblem(sppCtlUrl);
  if (urlProblem) throw new Error(`spp-ctl URL (${origin('sppCtl')}): ${urlProblem}, got ${JSON.stringify(raw.sppCtl)}`);
  if (raw.ui !== undefined) parseListen(raw.ui, `visualizer address (${origin('ui')})`);
  const ops = raw.ops === undefined || raw.ops === 'off' ? undefined : raw.ops;
  if (ops !== undefined) parseListen(ops, `ops endpoint address (${origin('ops')})`);
  const allowHosts = raw.allowHost === undefined ? [] : parseAllowHosts(raw.allowHost, `allowed host names (${origin('allowHost')})`);
  const host = raw.host ?? hostname().split('.')[0]!;
  if (hostProblem(host))
    throw new Error(`host (${origin('host')}): must be non-empty and contain no '/' nor control character, got ${printable(JSON.stringify(host))}`);
  if (raw.record !== undefined) recordProblem(raw.record, `record file (${origin('record')})`);
  const etcdLabel = (name: EtcdSettingName): string => {
    const known = [...sources].reverse().find((s) => s[ETCD_NAMES[name]] !== undefined);
    const o = known && ORIGINS.get(known)?.[ETCD_NAMES[name]];
    return o ?? settingLabel(name);
  };
  return {
    host,
    etcd: resolveEtcdSettings(
      {
        ...(raw.etcdEndpoints !== undefined ? { endpoints: raw.etcdEndpoints } : {}),
        ...(raw.etcdCaFile !== undefined ? { caFile: raw.etcdCaFile } : {}),
        ...(raw.etcdCertFile !== undefined ? { certFile: raw.etcdCertFile } : {}),
        ...(raw.etcdKeyFile !== undefined ? { keyFile: raw.etcdKeyFile } : {}),
        ...(raw.etcdUser !== undefined ? { user: raw.etcdUser } : {}),
        ...(raw.etcdPassword !== undefined ? { password: raw.etcdPassword } : {}),
        ...(raw.etcdPasswordFile !== undefined ? { passwordFile: raw.etcdPasswordFile } : {}),
      },
      etcdLabel,
    ),
    sppCtlUrl,
    sppCtlTimeoutMs: seconds('sppCtlTimeout', 10, 0.1) * 1000,
    logLevel,
    logFormat,
    resyncIntervalMs: seconds('resyncInterval', 30, 0.05) * 1000,
    reassertMs: parseReassert(raw.reassert, origin('reassert')),
    leaseTtlSec: Math.round(seconds('leaseTtl', 10, 2)),
    ...watchdog(raw.etcdWatchdog, `etcd watchdog (${origin('etcdWatchdog')})`),
    ...(raw.record ? { record: raw.record } : {}),
    ...(raw.ui ? { ui: raw.ui } : {}),
    ...(ops ? { ops } : {}),
    ...(allowHosts.length > 0 ? { allowHosts } : {}),
    unplugResetsVlan: parseBoolean(raw.unplugResetsVlan, `unplug-resets-vlan (${origin('unplugResetsVlan')})`),
  };
}

/** The record is appended to from the first event on: a directory that cannot take it would fail the agent later, so it is checked now. */
function recordProblem(path: string, label: string): void {
  if (path.trim() === '') throw new Error(`${label}: expected a file name, got ""`);
  try {
    accessSync(dirname(path), constants.W_OK);
  } catch (err) {
    throw new Error(`${label}: cannot write in ${dirname(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Why `url` is not an spp-ctl base URL (http(s)://HOST[:PORT], nothing after), or undefined. */
export function sppCtlUrlProblem(url: string): string | undefined {
  const expected = 'expected http://HOST:PORT';
  if (!/^https?:\/\/[^/]+$/.test(url)) return expected;
  try {
    // new URL rejects a port that is not a number or beyond 65535
    return new URL(url).hostname === '' ? expected : undefined;
  } catch {
    return `${expected} (port 1-65535)`;
  }
}

function watchdog(value: string | undefined, label: string): { etcdWatchdogMs?: number } {
  if (value === 'off') return {};
  const n = Number(value ?? DEFAULT_ETCD_WATCHDOG_SEC);
  if (value?.trim() === '' || !Number.isFinite(n) || n < MIN_ETCD_WATCHDOG_SEC) {
    throw new Error(`${label}: expected off or a number of seconds >= ${MIN_ETCD_WATCHDOG_SEC}, got ${JSON.stringify(value)}`);
  }
  return { etcdWatchdogMs: n * 1000 };
}

/** true/false as ini files and environments write them (1/0, yes/no, on/off too); absent: false. */
export function parseBoolean(value: string | undefined, what: string): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  throw new Error(`${what}: expected true or false, got ${JSON.stringify(value)}`);
}

/** `off`, or comma-separated seconds after the plug, ascending (default 0.25: one re-assert, docs/protocol.md). */
export function parseReassert(value: string | undefined, origin: string = SETTING_ENV.reassert): number[] {
  if (value === undefined) return [...DEFAULT_PORT_TIMERS.reassertMs];
  if (value === 'off' || value === '') return [];
  const ms = value.split(',').map((s) => Math.round(Number(s.trim()) * 1000));
  if (ms.some((n, i) => !Number.isFinite(n) || n < 0 || (i > 0 && n < ms[i - 1]!))) {
    throw new Error(`reassert schedule (${origin}): expected "off" or ascending seconds like 0.05,0.25,1,3, got ${JSON.stringify(value)}`);
  }
  return ms;
}
