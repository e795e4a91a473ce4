import { sppCtlUrlProblem } from '../../daemon/settings';
import { explainPort, VERDICTS } from '../../explain/explain';
import { explainInput, gatherHost, hostExplainInput, readBindings } from '../../explain/gather';
import { renderExplanation, renderTapExplanation } from '../../explain/render';
import { explainTap, TAP_VERDICTS } from '../../explain/tap-explain';
import { parseListen } from '../../listen';
import { decodeJson, TapInfo } from '../../protocol/codecs';
import { keys, tapFlowIdProblem } from '../../protocol/keys';
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
  summary: 'say in plain sentences why a port (or a tap flow) is or is not up, with the facts behind each sentence',
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
    'With --tap-flow-id instead of --port-id it explains a tap flow (TaaS): its keys, its two',
    'ports, the mirrors it claimed, the spp_mirror (GET /v1/mirrors/<id> with --spp-ctl) and',
    "where its rings are against the agent's plan. Tap flow verdicts, in the order they are checked:",
    ...Object.entries(TAP_VERDICTS).map(([verdict, meaning]) => `  ${verdict.padEnd(27)} ${meaning}`),
    '',
    'examples:',
    '  npx spp explain --host compute-1 --port-id 6160c9da-b2d5-4236-8413-7d646e5c0ae2',
    '  SPP_OPS=127.0.0.1:9180 SPP_CTL_URL=http://127.0.0.1:7777 npx spp explain --host compute-1 --port-id P --format json',
    '  SPP_CTL_URL=http://127.0.0.1:7777 npx spp explain --host compute-1 --tap-flow-id TF',
    '',
    'exit status: 0 the port (tap flow) is up and consistent as far as checked, 1 it is not (or the',
    'host is unknown, or etcd failed), 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'the compute host (required)' },
    'port-id': { type: 'string', arg: 'PORT', help: 'the neutron port id (this or --tap-flow-id)' },
    'tap-flow-id': { type: 'string', arg: 'TF', help: 'a tap flow id (TaaS), instead of --port-id' },
    ...agentEndpointOptions,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = str(values, 'host');
    const portId = str(values, 'port-id');
    const tapFlowId = str(values, 'tap-flow-id');
    if (!host || host.includes('/')) throw new UsageError("--host HOST is required (no '/')");
    if (portId !== undefined && tapFlowId !== undefined) throw new UsageError('give --port-id or --tap-flow-id, not both');
    const tapProblem = tapFlowId !== undefined ? tapFlowIdProblem(tapFlowId) : undefined;
    if (tapProblem) throw new UsageError(`--tap-flow-id: ${tapProblem}`);
    if (tapFlowId === undefined && (!portId || portId.includes('/'))) throw new UsageError("--port-id PORT (or --tap-flow-id TF) is required (no '/')");
    const format = choice(values, 'format', ['text', 'json'] as const);
    const endpoints = agentEndpoints(values, io.env);
    return withEtcdClient(
      this,
      values,
      io,
      async (client) => {
        const facts = await gatherHost({ client, host, ...endpoints });
        if (tapFlowId !== undefined) {
          // the flow's ports on other hosts: a port bound elsewhere is named, not just missing
          const info = facts.entries.find(([k]) => k === keys.tapInfo(host, tapFlowId))?.[1];
          const decoded = info ? decodeJson(TapInfo, keys.tapInfo(host, tapFlowId), info.value) : undefined;
          const ports = decoded?.ok ? [decoded.value.source_port, decoded.value.service_port] : [];
          const bindings = ports.length > 0 ? await readBindings(client, ports) : undefined;
          const e = explainTap({ ...hostExplainInput(facts), flowId: tapFlowId, ...(bindings ? { bindings } : {}) });
          io.out(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderTapExplanation(e));
          return e.up ? 0 : 1;
        }
        const e = explainPort(explainInput(facts, portId!));
        io.out(format === 'json' ? `${JSON.stringify(e, null, 2)}\n` : renderExplanation(e));
        return e.up ? 0 : 1;
      },
      { budgetMs: false },
    );
  },
};
