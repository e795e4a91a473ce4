/**
 * `spp systemd-unit`: prints the agent's systemd unit for one host, filled
 * in from the flags and checked the way `spp agent` would check them.
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { type RawSettings, resolveSettings, type SettingName, withOrigins } from '../../daemon/settings';
import { agentArgv, hiddenBy, renderUnit } from '../../deploy/systemd-unit';
import { parseListen } from '../../listen';
import { type CliCommand, type OptionSpec, parseCommandArgs, str, UsageError } from '../framework';
import { agentCommand } from './agent';

const flag = (help: string, arg: string): OptionSpec => ({ type: 'string', arg, help });
const LOOPBACK = /^(127\.[0-9.]+|::1|localhost)$/;

export const systemdUnitCommand: CliCommand = {
  path: ['systemd-unit'],
  summary: 'print a systemd unit that runs the agent for one host',
  positionals: '[-- AGENT-ARG...]',
  description: [
    'Prints the unit on stdout; save it as /etc/systemd/system/spp-agent.service.',
    'The unit restarts the agent always (except after a usage error, exit 2), reads the',
    'etcd credentials from --environment-file (SPP_ETCD_USER=..., SPP_ETCD_PASSWORD=...,',
    'one a line, mode 0600) so that no secret is on a command line, serves the visualizer',
    'and the ops endpoint (/metrics, /livez, /readyz) on loopback, and runs as a transient',
    'account unless --user says otherwise. A warning (stderr) names any path the unit',
    'needs that its sandbox hides (ProtectHome: /root, /home, /run/user; PrivateTmp: /tmp,',
    '/var/tmp), e.g. an spp or node installed by nvm under /root.',
    'ExecStart is the spp this command runs from (--spp-bin to change it). Arguments after',
    '`--` go to `spp agent` verbatim; they are checked against its options now.',
    '',
    'Example:',
    '  spp systemd-unit --host compute-1 --etcd-endpoints 10.0.0.5:2379,10.0.0.6:2379 \\',
    '    > /etc/systemd/system/spp-agent.service',
    '  spp systemd-unit --host compute-1 -- --lease-ttl 5',
    '',
    'See docs/operations.md (install, upgrade, roll back). Exit 2 on usage errors.',
  ].join('\n'),
  options: {
    host: flag('host name as neutron knows it (required)', 'HOST'),
    'etcd-endpoints': flag(
      "comma-separated etcd endpoints host:port (default: the agent's, 127.0.0.1:2379, or SPP_ETCD_ENDPOINTS in the EnvironmentFile)",
      'LIST',
    ),
    'spp-ctl': { type: 'string', arg: 'URL', default: 'http://127.0.0.1:7777', help: 'spp-ctl REST URL (default http://127.0.0.1:7777)' },
    ui: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:7780', help: "the read-only visualizer's address, or off (default 127.0.0.1:7780)" },
    ops: {
      type: 'string',
      arg: 'HOST:PORT',
      default: '127.0.0.1:9180',
      help: "the agent's ops endpoint (/metrics, /livez, /readyz, /view), or off (default 127.0.0.1:9180)",
    },
    'environment-file': {
      type: 'string',
      arg: 'FILE',
      default: '/etc/spp/agent.env',
      help: 'file with the etcd credentials, read by systemd (default /etc/spp/agent.env)',
    },
    user: flag('run as this existing account, or root (default: a transient account, DynamicUser=yes)', 'USER'),
    group: flag("the group with --user (default: the user's name)", 'GROUP'),
    'config-file': flag("the original agent's ini file, passed to the agent", 'FILE'),
    record: flag('agent --record FILE (under /var/lib/spp-agent/ systemd creates the directory)', 'FILE'),
    'log-level': flag("error|warn|info|debug (default: the agent's, info)", 'LEVEL'),
    'log-format': { type: 'string', arg: 'FORMAT', default: 'json', help: 'json|pretty (default json, for journald)' },
    'spp-bin': flag('absolute path of the installed spp for ExecStart (default: this one)', 'PATH'),
  },
  async run(values, positionals, io) {
    const host = str(values, 'host', true);
    const uiValue = str(values, 'ui', true);
    const ui = uiValue === 'off' ? undefined : uiValue;
    const opsValue = str(values, 'ops', true);
    const ops = opsValue === 'off' ? undefined : opsValue;
    const etcdEndpoints = str(values, 'etcd-endpoints');
    const logLevel = str(values, 'log-level');
    const logFormat = str(values, 'log-format', true);
    const sppCtl = str(values, 'spp-ctl', true);
    const user = str(values, 'user');
    const group = str(values, 'group');
    if (group && !user) throw new UsageError('--group needs --user (a transient account has its own group)');
    try {
      // the agent's own checks, so that a unit that cannot start is never written
      const given: RawSettings = {
        host,
        sppCtl,
        logFormat,
        ...(ui ? { ui } : {}),
        ...(ops ? { ops } : {}),
        ...(etcdEndpoints ? { etcdEndpoints } : {}),
        ...(logLevel ? { logLevel } : {}),
      };
      const flags: Partial<Record<SettingName, string>> = {
        host: 'flag --host',
        sppCtl: 'flag --spp-ctl',
        logFormat: 'flag --log-format',
        ui: 'flag --ui',
        ops: 'flag --ops',
        etcdEndpoints: 'flag --etcd-endpoints',
        logLevel: 'flag --log-level',
      };
      resolveSettings(withOrigins(given, flags));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (positionals.length > 0 && !positionals[0]!.startsWith('-')) {
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}: arguments for the agent go after \`--\``);
    }
    if (positionals.some((a) => a === '--etcd-password' || a.startsWith('--etcd-password='))) {
      throw new UsageError('--etcd-password does not go in a unit: put SPP_ETCD_PASSWORD=... in the --environment-file');
    }
    const paths: Record<string, string | undefined> = {
      'environment-file': str(values, 'environment-file', true),
      'spp-bin': str(values, 'spp-bin'),
      'config-file': str(values, 'config-file'),
      record: str(values, 'record'),
    };
    for (const [name, p] of Object.entries(paths))
      if (p !== undefined && !isAbsolute(p)) throw new UsageError(`--${name} must be an absolute path (systemd needs one), got ${JSON.stringify(p)}`);
    const options = {
      host,
      sppBin: paths['spp-bin'] ?? resolve(process.argv[1] ?? 'spp'),
      nodeDir: dirname(process.execPath),
      environmentFile: paths['environment-file']!,
      sppCtl,
      logFormat,
      agentArgs: positionals,
      docs: join(__dirname, '..', '..', '..', '..', 'docs', 'operations.md'),
      ...(user ? { user } : {}),
      ...(group ? { group } : {}),
      ...(ui ? { ui } : {}),
      ...(ops ? { ops } : {}),
      ...(etcdEndpoints ? { etcdEndpoints } : {}),
      ...(logLevel ? { logLevel } : {}),
      ...(paths['config-file'] ? { configFile: paths['config-file'] } : {}),
      ...(paths.record ? { record: paths.record } : {}),
    };
    try {
      parseCommandArgs(agentCommand, agentArgv(options).slice(1));
    } catch (err) {
      throw new UsageError(`the agent would refuse its arguments: ${(err as Error).message}`);
    }
    let text: string;
    try {
      text = renderUnit(options);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (ui && !LOOPBACK.test(parseListen(ui).host))
      io.err(`spp systemd-unit: warning: --ui ${ui} is not a loopback address; the page shows every port of the host to whoever reaches it\n`);
    if (ops && !LOOPBACK.test(parseListen(ops).host))
      io.err(`spp systemd-unit: warning: --ops ${ops} is not a loopback address; /metrics and /view show the host's ports to whoever reaches it\n`);
    for (const warning of sandboxWarnings(options)) io.err(`spp systemd-unit: warning: ${warning}\n`);
    io.out(text);
    return 0;
  },
};

/** What the unit runs or writes that its sandbox would hide (the spp, its real file, node, the ini, the record). */
function sandboxWarnings(o: { sppBin: string; nodeDir: string; configFile?: string; record?: string }): string[] {
  const real = realPath(o.sppBin);
  const install = 'install spp and node system-wide (e.g. npm install -g with a node under /usr) and give --spp-bin';
  const paths: Array<[string, string | undefined, string]> = [
    ['the spp of ExecStart', o.sppBin, `the agent cannot start; ${install}`],
    ['the file that spp links to,', real === o.sppBin ? undefined : real, `the agent cannot start; ${install}`],
    ['node', o.nodeDir, `the agent cannot start; ${install}`],
    ['--config-file', o.configFile, 'the agent cannot read it; keep it under /etc'],
    ['--record', o.record, 'the agent cannot write it there, or writes where nobody looks; use /var/lib/spp-agent/'],
  ];
  return paths.flatMap(([what, path, consequence]) => {
    const hidden = path === undefined ? undefined : hiddenBy(path);
    return hidden === undefined ? [] : [`${what} ${path} is under ${hidden.dir}, which the unit's ${hidden.by} hides from the agent: ${consequence}`];
  });
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
