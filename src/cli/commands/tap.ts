/**
 * `spp tap create|delete|list`: the TaaS service driver's half of the
 * protocol (upstream-final 1b) for operators and tests.
 */
import type { Etcd3 } from 'etcd3';
import {
  createTap,
  createTapInputProblem,
  deleteTap,
  deleteTapInputProblem,
  formatTapTable,
  listTaps,
  TAP_DIRECTIONS,
  TAP_EXIT_CODES,
  type TapDirection,
  TapError,
} from '../../driver';
import { printable } from '../../protocol/printable';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, choice, formatOption, type Io, type OptionSpec, str, UsageError, type Values } from '../framework';
import { timeoutMs, withDriverErrors } from './driver-session';
import { withEtcdClient } from './etcd-session';

const common: Record<string, OptionSpec> = {
  host: { type: 'string', arg: 'HOST', help: "the source port's host, as neutron knows it (required)" },
  'tap-flow-id': { type: 'string', arg: 'UUID', help: 'the TaaS tap flow id (required)' },
};
const waitOptions: Record<string, OptionSpec> = {
  timeout: { type: 'string', arg: 'SECONDS', help: 'how long --wait waits for the agent (default 30, as the service driver)' },
};

const EXIT_CODES_HELP = [
  'Exit codes: 0 done (or nothing to do); 1 etcd unreachable or another failure; 2 bad usage;',
  `${TAP_EXIT_CODES.not_bound} not bound (the source port has no bind_port on HOST, or the service port none anywhere);`,
  `${TAP_EXIT_CODES.not_same_host} not the same host (the service port is bound on another host);`,
  `${TAP_EXIT_CODES.no_mirror_free} no mirror free (every mirror/HOST/<i> is claimed, or HOST has none);`,
  `${TAP_EXIT_CODES.already_exists} the tap flow already exists on HOST;`,
  `${TAP_EXIT_CODES.timeout} --wait timed out (the flow stays created, as upstream);`,
  `${TAP_EXIT_CODES.agent_error} the agent answered tap_status = error: <reason>.`,
];

/** Runs a tap create or delete and prints its result: its message (escaped: it may quote the agent), or all of it as JSON. */
function printTapResult(cmd: CliCommand, values: Values, io: Io, action: (client: Etcd3) => Promise<{ readonly message: string }>): Promise<number> {
  const format = choice(values, 'format', ['text', 'json'] as const);
  return withDriverErrors(
    cmd,
    values,
    io,
    async (client) => {
      const result = await action(client);
      io.out(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : `${printable(result.message)}\n`);
      return 0;
    },
    tapRefusal,
  );
}

export const tapCreateCommand: CliCommand = {
  path: ['tap', 'create'],
  summary: "create a tap flow as networking-spp's TaaS service driver does: copy a port's traffic to a service port",
  description: [
    'Checks that the source port and the service port are both bound on HOST (bind_port/HOST/<port>),',
    'claims a free mirror for IN, OUT or both (compare-and-swap None -> tap flow id over',
    'mirror/HOST/<i> in etcd key order; a BOTH that gets only one gives it back), then writes',
    'tap_info/HOST/<flow> and tap_action/HOST/<flow> = plug. With --wait, waits (30 s) for',
    'tap_status = up. Prints the mirrors claimed (--format json: the tap_info written).',
    '',
    ...EXIT_CODES_HELP,
    '',
    'example: spp tap create --host spp4 --tap-flow-id 5e6a... --service-port 2b1c... \\',
    '           --source-port 6160... --direction BOTH --wait',
  ].join('\n'),
  options: {
    ...common,
    'service-port': { type: 'string', arg: 'UUID', help: 'the tap service port, which receives the copies (required)' },
    'source-port': { type: 'string', arg: 'UUID', help: 'the port whose traffic is copied (required)' },
    direction: { type: 'string', arg: 'IN|OUT|BOTH', help: 'traffic into the source port, out of it, or both (required)' },
    wait: { type: 'boolean', help: 'wait for the agent to answer tap_status' },
    ...waitOptions,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const direction = str(values, 'direction', true);
    if (!(TAP_DIRECTIONS as readonly string[]).includes(direction))
      throw new UsageError(`--direction must be IN, OUT or BOTH, got ${JSON.stringify(direction)}`);
    const request = {
      host: str(values, 'host', true),
      tapFlowId: str(values, 'tap-flow-id', true),
      servicePort: str(values, 'service-port', true),
      sourcePort: str(values, 'source-port', true),
      direction: direction as TapDirection,
      wait: values.wait === true,
      timeoutMs: timeoutMs(values),
    };
    const problem = createTapInputProblem(request);
    if (problem !== undefined) throw new UsageError(`invalid tap create request: ${problem}`);
    return printTapResult(this, values, io, (client) => createTap(client, request));
  },
};

export const tapDeleteCommand: CliCommand = {
  path: ['tap', 'delete'],
  summary: 'delete a tap flow: set its tap_action to unplug so the agent removes it and frees its mirrors',
  description: [
    'As the service driver: if tap_action/HOST/<flow> exists it becomes unplug; otherwise there is',
    'nothing to delete (exit 0). With --wait, waits until the agent has removed tap_info,',
    'tap_action and tap_status (the service driver does not wait).',
    '',
    `Exit codes: 0 unplug requested, deleted, or nothing to delete; 1 etcd unreachable; 2 bad usage; ${TAP_EXIT_CODES.timeout} --wait timed out.`,
  ].join('\n'),
  options: {
    ...common,
    wait: { type: 'boolean', help: 'wait until the agent has removed the tap flow' },
    ...waitOptions,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const request = { host: str(values, 'host', true), tapFlowId: str(values, 'tap-flow-id', true), wait: values.wait === true, timeoutMs: timeoutMs(values) };
    const problem = deleteTapInputProblem(request);
    if (problem !== undefined) throw new UsageError(`invalid tap delete request: ${problem}`);
    return printTapResult(this, values, io, (client) => deleteTap(client, request));
  },
};

export const tapListCommand: CliCommand = {
  path: ['tap', 'list'],
  summary: 'list tap flows: host, direction, service and source ports, mirrors, action, status',
  description: 'Read from one snapshot. Values that cannot be decoded are reported per field; a mirror claimed by a flow without tap_info is listed too.',
  options: {
    host: { type: 'string', arg: 'HOST', help: 'only tap flows of this host' },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = str(values, 'host');
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withEtcdClient(this, values, io, async (client) => {
      const rows = await listTaps(client, host);
      io.out(format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : formatTapTable(rows));
      return 0;
    });
  },
};

/** The commands of this file, registered in main.ts. */
export const tapCommands: readonly CliCommand[] = [tapCreateCommand, tapDeleteCommand, tapListCommand];

/** Each refusal has its own exit code; bad input is a usage error. */
function tapRefusal(err: unknown): number | 'usage' | undefined {
  if (!(err instanceof TapError)) return undefined;
  return err.code === 'invalid_input' ? 'usage' : TAP_EXIT_CODES[err.code];
}
