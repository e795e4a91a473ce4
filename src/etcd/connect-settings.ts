/**
 * The etcd connection settings every `spp` command and the agent share: one
 * table of flag, environment variable and ini names with their help, and one
 * resolution into EtcdConnectOptions. The password has no flag here: it comes
 * from SPP_ETCD_PASSWORD, a password file or the agent's ini, so that it is
 * never on a command line (where `ps` shows it to every local user).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { DEFAULT_ETCD_ENDPOINT, type EtcdConnectOptions, splitEndpoints } from './connect';

export interface EtcdSettingSpec {
  /** Command-line flag, without the dashes; absent for the password. */
  readonly flag?: string;
  readonly env: string;
  /** Key in the [spp] section of the agent's ini. */
  readonly ini: string;
  readonly arg?: string;
  readonly help: string;
}

export const ETCD_SETTINGS = {
  endpoints: {
    flag: 'etcd-endpoints',
    env: 'SPP_ETCD_ENDPOINTS',
    ini: 'etcd_endpoints',
    arg: 'LIST',
    help: `comma-separated etcd endpoints host:port or https://host:port; default ${DEFAULT_ETCD_ENDPOINT}`,
  },
  caFile: {
    flag: 'etcd-ca-file',
    env: 'SPP_ETCD_CA_FILE',
    ini: 'etcd_ca_file',
    arg: 'FILE',
    help: 'CA certificate (PEM) of the etcd servers: connect over TLS',
  },
  certFile: {
    flag: 'etcd-cert-file',
    env: 'SPP_ETCD_CERT_FILE',
    ini: 'etcd_cert_file',
    arg: 'FILE',
    help: 'client certificate (PEM) for TLS client authentication, with --etcd-key-file',
  },
  keyFile: {
    flag: 'etcd-key-file',
    env: 'SPP_ETCD_KEY_FILE',
    ini: 'etcd_key_file',
    arg: 'FILE',
    help: 'private key (PEM) of --etcd-cert-file',
  },
  user: {
    flag: 'etcd-user',
    env: 'SPP_ETCD_USER',
    ini: 'etcd_user',
    arg: 'USER',
    help: 'etcd user to log in as; its password from SPP_ETCD_PASSWORD or --etcd-password-file',
  },
  passwordFile: {
    flag: 'etcd-password-file',
    env: 'SPP_ETCD_PASSWORD_FILE',
    ini: 'etcd_password_file',
    arg: 'FILE',
    help: "file holding the etcd user's password in its first line; wins over SPP_ETCD_PASSWORD",
  },
  password: {
    env: 'SPP_ETCD_PASSWORD',
    ini: 'etcd_password',
    help: "the etcd user's password (environment or ini only, never a flag)",
  },
} as const satisfies Record<string, EtcdSettingSpec>;

export type EtcdSettingName = keyof typeof ETCD_SETTINGS;
/** Raw values by setting, as one source (or the merge of several) gives them. */
export type EtcdRawSettings = Partial<Record<EtcdSettingName, string>>;

/** How a setting is named in messages: its flag and its variable. */
export function settingLabel(name: EtcdSettingName): string {
  const spec: EtcdSettingSpec = ETCD_SETTINGS[name];
  return spec.flag ? `--${spec.flag} / ${spec.env}` : spec.env;
}

export function etcdSettingsFromEnv(env: NodeJS.ProcessEnv): EtcdRawSettings {
  const out: EtcdRawSettings = {};
  for (const [name, spec] of Object.entries(ETCD_SETTINGS) as Array<[EtcdSettingName, EtcdSettingSpec]>) {
    const v = env[spec.env];
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/**
 * Reads a secret from a file: its first line, without the line break, so
 * `echo secret > file` and editors that add a final newline both work.
 */
export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const secret = text.split(/\r?\n/)[0]!;
  if (secret === '') throw new Error(`${what} ${path} is empty: its first line must hold the password`);
  return secret;
}

/** `host:port`, `[v6]:port` or `http(s)://` before either, with a port etcd could listen on. */
const ENDPOINT = /^(?:https?:\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/[\]]+):([0-9]{1,5})$/i;

/** Why an etcd endpoint cannot be connected to, or undefined. */
export function endpointProblem(endpoint: string): string | undefined {
  const m = ENDPOINT.exec(endpoint);
  const port = m ? Number(m[1]) : NaN;
  return port >= 1 && port <= 65535 ? undefined : `${JSON.stringify(endpoint)} is not an endpoint: expected host:port or https://host:port (port 1-65535)`;
}

/** A file the connection reads (CA, certificate, key), checked now: a missing one is a setting's fault, not a connection failure. */
function readable(path: string, label: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch (err) {
    throw new Error(`${label}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * Checks and completes merged raw settings; errors name the setting (never a
 * password): by `label`, the source the value came from when the caller
 * knows it, else its flag and variable.
 */
export function resolveEtcdSettings(raw: EtcdRawSettings, label: (name: EtcdSettingName) => string = settingLabel): EtcdConnectOptions {
  const endpoints = splitEndpoints(raw.endpoints ?? DEFAULT_ETCD_ENDPOINT);
  if (endpoints.length === 0) throw new Error(`${label('endpoints')}: ${JSON.stringify(raw.endpoints)} lists no endpoint`);
  for (const e of endpoints) {
    const problem = endpointProblem(e);
    if (problem) throw new Error(`${label('endpoints')}: ${problem}`);
  }
  const plain = raw.caFile === undefined ? undefined : endpoints.find((e) => /^http:\/\//i.test(e));
  if (plain !== undefined) {
    // TLS is what the CA file asks for; an http:// endpoint asks for the opposite, and neither may silently win
    throw new Error(
      `${label('endpoints')} has the plain-HTTP endpoint ${plain}, but ${label('caFile')} asks for TLS: write https://${plain.slice('http://'.length)} or drop the CA file`,
    );
  }
  if ((raw.certFile === undefined) !== (raw.keyFile === undefined)) {
    throw new Error(`${label('certFile')} and ${label('keyFile')} go together: give both or neither`);
  }
  if (raw.certFile !== undefined && raw.caFile === undefined) {
    throw new Error(`a client certificate (${label('certFile')}) needs ${settingLabel('caFile')}: TLS is on only with a CA file`);
  }
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    const path = raw[name];
    if (path !== undefined) readable(path, label(name));
  }
  const password = raw.passwordFile !== undefined ? readSecretFile(raw.passwordFile, `etcd password file (${label('passwordFile')})`) : raw.password;
  if (raw.user !== undefined && password === undefined) {
    throw new Error(`etcd user ${raw.user} (${label('user')}) needs a password: set ${ETCD_SETTINGS.password.env} or ${settingLabel('passwordFile')}`);
  }
  return {
    endpoints,
    ...(raw.caFile !== undefined ? { caFile: raw.caFile } : {}),
    ...(raw.certFile !== undefined ? { certFile: raw.certFile } : {}),
    ...(raw.keyFile !== undefined ? { keyFile: raw.keyFile } : {}),
    ...(raw.user !== undefined ? { username: raw.user, password: password! } : {}),
  };
}
