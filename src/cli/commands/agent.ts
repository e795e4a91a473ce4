import { Recorder, recordExchanges } from '../../daemon/recorder';
import { fromEnv, fromIniFile, type RawSettings, resolveSettings, type SettingName, withOrigins } from '../../daemon/settings';
import { createLogger } from '../../log';
import { httpTransport, SppCtlClient } from '../../sppctl/client';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, type OptionSpec, str, UsageError, type Values } from '../framework';
import { startAgentWithUi } from './agent-ui';

const flag = (help: string, arg = 'VALUE'): OptionSpec => ({ type: 'string', arg, help });

/** Flag name -> setting name. */
const FLAGS: Record<string, keyof RawSettings> = {
  host: 'host',
  'etcd-endpoints': 'etcdEndpoints',
  'etcd-ca-file': 'etcdCaFile',
  'etcd-cert-file': 'etcdCertFile',
  'etcd-key-file': 'etcdKeyFile',
  'etcd-user': 'etcdUser',
  'etcd-password': 'etcdPassword',
  'etcd-password-file': 'etcdPasswordFile',
  'spp-ctl': 'sppCtl',
  'spp-ctl-timeout': 'sppCtlTimeout',
  'resync-interval': 'resyncInterval',
  'reassert-up': 'reassert',
  'lease-ttl': 'leaseTtl',
  'etcd-watchdog': 'etcdWatchdog',
  record: 'record',
  'log-level': 'logLevel',
  'log-format': 'logFormat',
  ui: 'ui',
  ops: 'ops',
};

function fromFlags(values: Values): RawSettings {
  const out: RawSettings = {};
  const origins: Partial<Record<SettingName, string>> = {};
  for (const [name, setting] of Object.entries(FLAGS)) {
    // an empty flag value is a value: checked like any other, not dropped
    const v = values[name];
    if (typeof v !== 'string') continue;
    out[setting] = v;
    origins[setting] = `flag --${name}`;
  }
  if (values['unplug-resets-vlan'] === true) {
    out.unplugResetsVlan = 'true';
    origins.unplugResetsVlan = 'flag --unplug-resets-vlan';
  }
  const allow = values['allow-host'];
  if (Array.isArray(allow) && allow.length > 0) {
    out.allowHost = allow.join(',');
    origins.allowHost = 'flag --allow-host';
  }
  return withOrigins(out, origins);
}

export const agentCommand: CliCommand = {
  path: ['agent'],
  summary: 'run the compute-node agent: etcd -> spp-ctl reconciliation for one host',
  description: [
    "Settings come from --config-file (the original agent's ini: [DEFAULT] host,",
    '[spp] etcd_host, etcd_port, api_ip_addr, api_port), then SPP_* environment',
    'variables, then flags (flags win). See docs/operations.md for the full table.',
    '',
    'SIGTERM/SIGINT: finish the spp-ctl command in flight, revoke the liveness',
    'lease, exit 0. A second signal exits at once.',
    '',
    'One agent per host is active: it holds the etcd lease lock',
    '/spp/openstack/agent-lock/<host> (TTL --lease-ttl). A second agent started',
    'for the host stands by and takes over when the first one is gone. An agent',
    'that finds the lock taken by another after an etcd outage exits 1.',
  ].join('\n'),
  options: {
    host: flag('host name as neutron knows it (env SPP_HOST; default `hostname -s`)', 'HOST'),
    ...etcdOptions,
    'etcd-password': flag('etcd password; visible to every local user in `ps`: prefer SPP_ETCD_PASSWORD or --etcd-password-file', 'PASSWORD'),
    'spp-ctl': flag('spp-ctl REST URL (env SPP_CTL_URL; default http://127.0.0.1:7777)', 'URL'),
    'spp-ctl-timeout': flag('seconds before an spp-ctl request fails (env SPP_CTL_TIMEOUT; default 10)', 'SEC'),
    'config-file': flag('neutron-style ini file of the original agent', 'FILE'),
    'resync-interval': flag('seconds between re-reads of every spp_vf status (env SPP_RESYNC_INTERVAL; default 30)', 'SEC'),
    'reassert-up': flag('seconds after a plug to put `up` again, or off (env SPP_REASSERT_UP; default 0.25)', 'LIST'),
    'lease-ttl': flag('TTL in seconds of the liveness key and of the host lock a standby agent waits on (env SPP_LEASE_TTL; default 10)', 'SEC'),
    'etcd-watchdog': flag(
      "seconds without an answer to the agent's etcd client, while etcd answers a new one, before the agent exits 1 to be restarted; or off (env SPP_ETCD_WATCHDOG, ini etcd_watchdog; default 60, at least 6)",
      'SEC',
    ),
    record: flag('append every etcd event and spp-ctl exchange to FILE as JSON lines (env SPP_RECORD)', 'FILE'),
    ui: flag('serve the read-only visualizer on HOST:PORT (env SPP_UI; off by default)', 'HOST:PORT'),
    ops: flag('serve /metrics, /livez, /readyz and /view on HOST:PORT; a bare PORT binds 127.0.0.1 (env SPP_OPS, ini [spp] ops; off by default)', 'HOST:PORT'),
    'allow-host': {
      type: 'string',
      multiple: true,
      arg: 'NAME',
      help: "a host name (or address) the page and the ops endpoint also answer to, e.g. the node's DNS name when bound to 0.0.0.0 (repeatable; env SPP_ALLOW_HOST, ini [spp] allow_host: comma-separated). Others get 421",
    },
    'log-level': flag('error|warn|info|debug (env SPP_LOG_LEVEL; default info)', 'LEVEL'),
    'log-format': flag('json|pretty (env SPP_LOG_FORMAT; default json)', 'FORMAT'),
    'unplug-resets-vlan': {
      type: 'boolean',
      help:
        "on unplug, also remove the vhost's VLAN tags, as the original Python agent does (env SPP_UNPLUG_RESETS_VLAN, ini unplug_resets_vlan; " +
        'default off: tags stay until a plug needs others, so unplug and re-plug take 1 command instead of 5). For nodes that may be switched ' +
        'back to the original agent: its flat plug does not remove leftover tags, so its flat ports would get tagged traffic',
    },
  },
  async run(values, _positionals, io) {
    const file = str(values, 'config-file');
    let settings;
    try {
      settings = resolveSettings(file ? fromIniFile(file) : {}, fromEnv(io.env), fromFlags(values));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const logger = createLogger({ level: settings.logLevel, format: settings.logFormat });
    if (str(values, 'etcd-password') !== undefined) {
      logger.warn('--etcd-password is on the command line, where every local user sees it (ps, /proc): use SPP_ETCD_PASSWORD or --etcd-password-file', {
        host: settings.host,
      });
    }
    const recorder = settings.record ? new Recorder(settings.record) : undefined;
    const sppctl = new SppCtlClient(httpTransport(settings.sppCtlUrl, { timeoutMs: settings.sppCtlTimeoutMs }), {
      ...(recorder ? { onExchange: recordExchanges(recorder) } : {}),
    });
    let fatal: ((reason: string) => void) | undefined;
    const handle = startAgentWithUi(settings, { logger, sppctl, ...(recorder ? { recorder } : {}), onFatal: (reason) => fatal?.(reason) });
    return new Promise<number>((resolve) => {
      fatal = (reason) => {
        io.err(`spp agent: ${reason}`);
        setTimeout(() => process.exit(1), 200).unref();
        resolve(1);
      };
      let signals = 0;
      const onSignal = (signal: NodeJS.Signals): void => {
        signals += 1;
        if (signals > 1) {
          logger.warn('second signal: exiting now', { signal });
          process.exit(1);
        }
        logger.info('signal received: stopping', { signal });
        void handle.stop().then(() => {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          // grpc keeps sockets for a moment after close(); do not let that delay the exit
          setTimeout(() => process.exit(0), 200).unref();
          resolve(0);
        });
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
  },
};
