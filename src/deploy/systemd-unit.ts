/**
 * The systemd unit of the agent, as text: what `spp systemd-unit` prints.
 * Pure, so that the docs' example can be checked against it.
 */
import { dirname } from 'node:path';

export interface UnitOptions {
  readonly host: string;
  /** Absolute path of the installed `spp`. */
  readonly sppBin: string;
  /** Directory of the node binary; a PATH line is added when systemd's default PATH lacks it. */
  readonly nodeDir: string;
  /** Where the etcd credentials (SPP_ETCD_USER, SPP_ETCD_PASSWORD) live, read by systemd. */
  readonly environmentFile: string;
  /** Run as this account; undefined: a transient account (DynamicUser); 'root': as root. */
  readonly user?: string;
  readonly group?: string;
  readonly etcdEndpoints?: string;
  readonly sppCtl: string;
  /** HOST:PORT of the visualizer; undefined: off. */
  readonly ui?: string;
  /** HOST:PORT of the ops endpoint (/metrics, /livez, /readyz, /view); undefined: off. */
  readonly ops?: string;
  readonly logFormat: string;
  readonly logLevel?: string;
  readonly configFile?: string;
  readonly record?: string;
  /** Further `spp agent` arguments, verbatim. */
  readonly agentArgs: readonly string[];
  /** The installed docs/operations.md, for `systemctl status`. */
  readonly docs?: string;
}

/** systemd's PATH for services (systemd.exec(5)), which `#!/usr/bin/env node` searches. */
export const SYSTEMD_DEFAULT_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** A state directory systemd creates and hands to the (possibly transient) service account. */
const STATE_DIR = '/var/lib/spp-agent';

export function agentArgv(o: UnitOptions): string[] {
  const opt = (name: string, value: string | undefined): string[] => (value === undefined ? [] : [`--${name}`, value]);
  return [
    'agent',
    ...opt('host', o.host),
    ...opt('config-file', o.configFile),
    ...opt('etcd-endpoints', o.etcdEndpoints),
    ...opt('spp-ctl', o.sppCtl),
    ...opt('ui', o.ui),
    ...opt('ops', o.ops),
    ...opt('record', o.record),
    ...opt('log-level', o.logLevel),
    ...opt('log-format', o.logFormat),
    ...o.agentArgs,
  ];
}

export function renderUnit(o: UnitOptions): string {
  for (const v of Object.values(o)) if (typeof v === 'string') noLineBreak(v);
  const account =
    o.user === 'root'
      ? ['# Runs as root (--user root).']
      : o.user !== undefined
        ? [`User=${o.user}`, `Group=${o.group ?? o.user}`]
        : ['# A transient account: nothing to create; it can read only world-readable files and the EnvironmentFile (read by systemd).', 'DynamicUser=yes'];
  const recordDir = o.record === undefined ? [] : o.record.startsWith(`${STATE_DIR}/`) ? ['StateDirectory=spp-agent'] : [`ReadWritePaths=${dirname(o.record)}`];
  const path = SYSTEMD_DEFAULT_PATH.includes(o.nodeDir) ? [] : [`Environment=PATH=${[o.nodeDir, ...SYSTEMD_DEFAULT_PATH].join(':')}`];
  const lines = [
    `# The networking-spp agent for host ${o.host}, from \`spp systemd-unit\`.`,
    '# Install: save as /etc/systemd/system/spp-agent.service, create the EnvironmentFile',
    `# (install -m 0600 /dev/null ${o.environmentFile}; then one VAR=value a line, e.g.`,
    '# SPP_ETCD_USER=... and SPP_ETCD_PASSWORD=...), then:',
    '#   systemctl daemon-reload && systemctl enable --now spp-agent',
    '[Unit]',
    `Description=networking-spp agent for host ${o.host} (etcd -> spp-ctl)`,
    ...(o.docs ? [`Documentation=file://${o.docs}`] : []),
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    '# The etcd credentials and any other SPP_* setting: no secret on the command line.',
    `EnvironmentFile=${o.environmentFile}`,
    ...path,
    `ExecStart=${[o.sppBin, ...agentArgv(o)].map(quoteExecArg).join(' ')}`,
    'Restart=always',
    'RestartSec=2',
    '# Exit 2 is a usage error (a bad flag or setting): restarting cannot fix it.',
    'RestartPreventExitStatus=2',
    '# SIGTERM: the agent finishes the spp-ctl command in flight, revokes its lease, exits 0.',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=10',
    '# The agent needs only the network (etcd, spp-ctl); it never touches DPDK itself.',
    ...account,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    ...recordDir,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/**
 * Directories the unit's sandbox hides from the service, and the setting
 * that hides them (systemd.exec(5)): an `spp` (or its node) installed there,
 * as nvm installs under /root or /home, cannot start.
 */
export const SANDBOX_HIDDEN: ReadonlyArray<{ readonly dir: string; readonly by: string }> = [
  { dir: '/root', by: 'ProtectHome=yes' },
  { dir: '/home', by: 'ProtectHome=yes' },
  { dir: '/run/user', by: 'ProtectHome=yes' },
  { dir: '/tmp', by: 'PrivateTmp=yes' },
  { dir: '/var/tmp', by: 'PrivateTmp=yes' },
];

/** The hidden directory `path` is in, with the setting that hides it; undefined when the service sees it. */
export function hiddenBy(path: string): { readonly dir: string; readonly by: string } | undefined {
  return SANDBOX_HIDDEN.find((h) => path === h.dir || path.startsWith(`${h.dir}/`));
}

/**
 * One ExecStart word as systemd reads it (systemd.service(5), "Command
 * lines"): `%` starts a specifier and `$` a variable, so both are doubled;
 * anything with spaces, quotes or backslashes goes in double quotes.
 */
export function quoteExecArg(arg: string): string {
  noLineBreak(arg);
  const escaped = arg.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && /^[A-Za-z0-9_@%+=:,./$-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function noLineBreak(value: string): void {
  if (/[\n\r\0]/.test(value)) throw new Error(`a unit file line cannot hold a newline or NUL: ${JSON.stringify(value)}`);
}
