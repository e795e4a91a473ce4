/**
 * Agent settings from three sources, in increasing precedence: the ini file
 * of the original agent, SPP_* environment variables, command-line flags.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { DEFAULT_PORT_TIMERS } from '../../machines/port';
import type { EtcdConnectOptions } from '../etcd/connect';
import { ETCD_SETTINGS, resolveEtcdSettings } from '../etcd/connect-settings';
import { parseAllowHosts } from '../http-guard';
import { parseListen } from '../listen';
import { LOG_LEVELS, type LogFormat, type LogLevel } from '../log';
import { hostProblem } from '../protocol/keys';
import { printable } from '../protocol/printable';
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
  record: 'SPP_RECORD',
  ui: 'SPP_UI',
  ops: 'SPP_OPS',
  allowHost: 'SPP_ALLOW_HOST',
  unplugResetsVlan: 'SPP_UNPLUG_RESETS_VLAN',
} as const;

export function fromEnv(env: NodeJS.ProcessEnv): RawSettings {
  const out: RawSettings = {};
  for (const [name, variable] of Object.entries(SETTING_ENV) as Array<[keyof RawSettings, string]>) {
    const v = env[variable];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
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
  if (d.host) out.host = d.host;
  if (spp.etcd_host || spp.etcd_port) out.etcdEndpoints = `${spp.etcd_host ?? '127.0.0.1'}:${spp.etcd_port ?? '2379'}`;
  if (spp[ETCD_SETTINGS.endpoints.ini]) out.etcdEndpoints = spp[ETCD_SETTINGS.endpoints.ini];
  if (spp.api_ip_addr || spp.api_port) out.sppCtl = `http://${spp.api_ip_addr ?? '127.0.0.1'}:${spp.api_port ?? '7777'}`;
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
    ['unplugResetsVlan', 'unplug_resets_vlan'],
    ['ops', 'ops'],
    ['allowHost', 'allow_host'],
  ];
  for (const [name, key] of ext) if (spp[key]) out[name] = spp[key];
  return out;
}

/** Merges the sources (later wins) and checks every value, naming the setting and its source variable. */
export function resolveSettings(...sources: RawSettings[]): AgentSettings {
  const raw: RawSettings = Object.assign({}, ...sources);
  const seconds = (name: keyof RawSettings, fallback: number, min: number): number => {
    const v = raw[name];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${name} (${SETTING_ENV[name]}): expected a number of seconds >= ${min}, got ${JSON.stringify(v)}`);
    return n;
  };
  const logLevel = (raw.logLevel ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel))
    throw new Error(`log level (${SETTING_ENV.logLevel}): expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw.logLevel)}`);
  const logFormat = (raw.logFormat ?? 'json') as LogFormat;
  if (logFormat !== 'json' && logFormat !== 'pretty')
    throw new Error(`log format (${SETTING_ENV.logFormat}): expected json or pretty, got ${JSON.stringify(raw.logFormat)}`);
  const sppCtlUrl = (raw.sppCtl ?? 'http://127.0.0.1:7777').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(sppCtlUrl))
    throw new Error(`spp-ctl URL (${SETTING_ENV.sppCtl}): expected http://HOST:PORT, got ${JSON.stringify(raw.sppCtl)}`);
  if (raw.ui !== undefined) parseListen(raw.ui, `visualizer address (--ui, ${SETTING_ENV.ui})`);
  const ops = raw.ops === undefined || raw.ops === 'off' ? undefined : raw.ops;
  if (ops !== undefined) parseListen(ops, `ops endpoint address (--ops, ${SETTING_ENV.ops})`);
  const allowHosts = raw.allowHost === undefined ? [] : parseAllowHosts(raw.allowHost, `allowed host names (--allow-host, ${SETTING_ENV.allowHost})`);
  const host = raw.host ?? hostname().split('.')[0]!;
  if (hostProblem(host))
    throw new Error(`host (${SETTING_ENV.host}): must be non-empty and contain no '/' nor control character, got ${printable(JSON.stringify(host))}`);
  return {
    host,
    etcd: resolveEtcdSettings({
      ...(raw.etcdEndpoints !== undefined ? { endpoints: raw.etcdEndpoints } : {}),
      ...(raw.etcdCaFile !== undefined ? { caFile: raw.etcdCaFile } : {}),
      ...(raw.etcdCertFile !== undefined ? { certFile: raw.etcdCertFile } : {}),
      ...(raw.etcdKeyFile !== undefined ? { keyFile: raw.etcdKeyFile } : {}),
      ...(raw.etcdUser !== undefined ? { user: raw.etcdUser } : {}),
      ...(raw.etcdPassword !== undefined ? { password: raw.etcdPassword } : {}),
      ...(raw.etcdPasswordFile !== undefined ? { passwordFile: raw.etcdPasswordFile } : {}),
    }),
    sppCtlUrl,
    sppCtlTimeoutMs: seconds('sppCtlTimeout', 10, 0.1) * 1000,
    logLevel,
    logFormat,
    resyncIntervalMs: seconds('resyncInterval', 30, 0.05) * 1000,
    reassertMs: parseReassert(raw.reassert),
    leaseTtlSec: Math.round(seconds('leaseTtl', 10, 2)),
    ...(raw.record ? { record: raw.record } : {}),
    ...(raw.ui ? { ui: raw.ui } : {}),
    ...(ops ? { ops } : {}),
    ...(allowHosts.length > 0 ? { allowHosts } : {}),
    unplugResetsVlan: parseBoolean(raw.unplugResetsVlan, `unplug-resets-vlan (${SETTING_ENV.unplugResetsVlan})`),
  };
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
export function parseReassert(value: string | undefined): number[] {
  if (value === undefined) return [...DEFAULT_PORT_TIMERS.reassertMs];
  if (value === 'off' || value === '') return [];
  const ms = value.split(',').map((s) => Math.round(Number(s.trim()) * 1000));
  if (ms.some((n, i) => !Number.isFinite(n) || n < 0 || (i > 0 && n < ms[i - 1]!))) {
    throw new Error(`reassert schedule (${SETTING_ENV.reassert}): expected "off" or ascending seconds like 0.05,0.25,1,3, got ${JSON.stringify(value)}`);
  }
  return ms;
}
