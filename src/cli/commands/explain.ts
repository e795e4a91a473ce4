import { sppCtlUrlProblem } from '../../daemon/settings';
import { explainPort, VERDICTS } from '../../explain/explain';
import { explainInput, gatherHost } from '../../explain/gather';
import { renderExplanation } from '../../explain/render';
import { parseListen } from '../../listen';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, choice, formatOption, type OptionSpec, str, UsageError, type Values } from '../framework';
import { withEtcdClient } from './etcd-session';

/** --ops and --spp-ctl, with the agent's own environment variables as defaults: on a compute node they are already set. */
export const agentEndpointOptions: Record<string, OptionSpec> = {
  ops: { type: 'string', arg: 'HOST:PORT', help: "the agent's ops endpoint, to read its live view (env SPP_OPS; not asked when unset)" },
  'spp-ctl': { type: 'string', arg: 'URL', help: "spp-ctl's URL, for GETs of /v1/processes and the vf statuses (env SPP_CTL_URL; not asked when unset)" },
};

/** The two addresses, from flags over the agent's variables; a value that is not an address is a usage error naming its source. */
export function agentEndpoints(values: Values, env: NodeJS.ProcessEnv): { opsUrl?: string; sppCtlUrl?: string } {
  const ops = str(values, 'ops') ?? env.SPP_OPS;
  const sppCtl = str(values, 'spp-ctl') ?? env.SPP_CTL_URL;
  const from = (flag: string, variable: string): string => (str(values, flag) !== undefined ? `flag --${flag}` : `variable ${variable}`);
  if (ops && ops !== 'off') {
    const url = /^https?:\/\//.test(ops);
    const problem = url ? sppCtlUrlProblem(ops.replace(/\/+$/, '')) : listenProblem(ops);
    if (problem) throw new UsageError(`ops endpoint (${from('ops', 'SPP_OPS')}): ${problem}, got ${JSON.stringify(ops)}`);
  }
  const urlProblem = sppCtl ? sppCtlUrlProblem(sppCtl.replace(/\/+$/, '')) : undefined;
  if (urlProblem) throw new UsageError(`spp-ctl URL (${from('spp-ctl', 'SPP_CTL_URL')}): ${urlProblem}, got ${JSON.stringify(sppCtl)}`);
  return { ...(ops && ops !== 'off' ? { opsUrl: ops } : {}), ...(sppCtl ? { sppCtlUrl: sppCtl } : {}) };
}

function listenProblem(value: string): string | undefined {
  try {
    parseListen(value);
    return undefined;
  } catch {
    return 'expected HOST:PORT or PORT';
  }
}

export const explainCommand: CliCommand = {
  path: ['explain'],
  summary: 'say in plain sentences why a port is or is not up, with the facts behind each sentence',
  description: [
    "Reads the host's keys and its liveness key from etcd and, where given and reachable,",
    "the agent's ops endpoint (--ops, its /view) and spp-ctl (--spp-ctl; GETs only). The",
    "port's desired state is derived by the agent's own code. Facts are keys with their",
    "mod revisions and values, the agent's machine states and errors, and spp_vf entries.",
    '',
    'It says only what it checked: without --spp-ctl, spp_vf itself is not asked, and an',
    '`up` verdict says so ("Not checked: spp_vf 1 itself ...").',
    '',
    'verdicts, in the order they are checked:',
    ...Object.entries(VERDICTS).map(([verdict, meaning]) => `  ${verdict.padEnd(21)} ${meaning}`),
    '',
    'examples:',
    '  npx spp explain --host compute-1 --port-id 6160c9da-b2d5-4236-8413-7d646e5c0ae2',
    '  SPP_OPS=127.0.0.1:9180 SPP_CTL_URL=http://127.0.0.1:7777 npx spp explain --host compute-1 --port-id P --format json',
    '',
    'exit status: 0 the port is up and consistent as far as checked, 1 it is not (or the host is',
    'unknown, or etcd failed), 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'the compute host (required)' },
    'port-id': { type: 'string', arg: 'PORT', help: 'the neutron port id (required)' },
    ...agentEndpointOptions,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = str(values, 'host');
    const portId = str(values, 'port-id');
    if (!host || host.includes('/')) throw new UsageError("--host HOST is required (no '/')");
    if (!portId || portId.includes('/')) throw new UsageError("--port-id PORT is required (no '/')");
    const format = choice(values, 'format', ['text', 'json'] as const);
    const endpoints = agentEndpoints(values, io.env);
    return withEtcdClient(
      this,
      values,
      io,
      async (client) => {
        const facts = await gatherHost({ client, host, ...endpoints });
        const e = explainPort(explainInput(facts, portId));
        io.out(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(e));
        return e.up ? 0 : 1;
      },
      { budgetMs: false },
    );
  },
};
