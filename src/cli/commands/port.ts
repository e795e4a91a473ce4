/**
 * `spp port bind|unbind|list`: the mechanism driver's half of the protocol
 * for operators and tests, binding ports exactly as neutron does.
 */

import { BindError, bindInputProblem, bindPort, formatPortTable, listPorts, UnbindError, unbindInputProblem, unbindPort } from '../../driver';
import { hostKnown } from '../../driver/host';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, choice, formatOption, int, jsonFormatOption, type OptionSpec, str, UsageError } from '../framework';
import { timeoutMs, withDriverErrors } from './driver-session';
import { withEtcdClient } from './etcd-session';

const hostOption: Record<string, OptionSpec> = {
  host: { type: 'string', arg: 'HOST', help: 'compute node host name, as neutron knows it (required)' },
};
const portIdOption: Record<string, OptionSpec> = {
  'port-id': { type: 'string', arg: 'UUID', help: 'neutron port id (required)' },
};
const timeoutOption: Record<string, OptionSpec> = {
  timeout: { type: 'string', arg: 'SECONDS', help: 'how long to wait for the agent (default 20, as the original driver)' },
};

export const portBindCommand: CliCommand = {
  path: ['port', 'bind'],
  summary: 'bind a neutron port on an SPP host as the mechanism driver does, and wait for the agent',
  description: [
    'Claims the first free vhost of the physical network (compare-and-swap None -> port id),',
    'writes bind_port and action = plug, and waits for port_status = up. Prints the binding',
    '(vif type, vif details, vhost id) as JSON on stdout (--format text: one line).',
    '',
    'Exit codes: 0 bound; 1 not bound (unknown host, agent down, unknown physical network,',
    'already bound, no free vhost, agent error, timeout, etcd unreachable); 2 bad usage or input.',
    '',
    'example: spp port bind --host spp4 --port-id 6160c9da-b2d5-4236-8413-7d646e5c0ae2 \\',
    '           --mac fa:16:3e:a0:da:db --phys phys1 --vlan 100',
  ].join('\n'),
  options: {
    ...hostOption,
    ...portIdOption,
    mac: { type: 'string', arg: 'MAC', help: 'MAC address of the port, e.g. fa:16:3e:a0:da:db (required)' },
    phys: { type: 'string', arg: 'NAME', help: 'physical network of the segment, e.g. phys1 (required)' },
    vlan: { type: 'string', arg: 'ID', help: 'segmentation id of a VLAN segment (1-4094); omit for flat' },
    ...timeoutOption,
    'skip-liveness-check': {
      type: 'boolean',
      help: 'bind even without the agent liveness key (for hosts running the original Python agent)',
    },
    ...jsonFormatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const format = choice(values, 'format', ['text', 'json'] as const);
    const vlan = values.vlan === undefined ? undefined : int(values, 'vlan', 0);
    const request = {
      host: str(values, 'host', true),
      portId: str(values, 'port-id', true),
      mac: str(values, 'mac', true),
      physicalNetwork: str(values, 'phys', true),
      vlanId: vlan,
      timeoutMs: timeoutMs(values),
      skipLivenessCheck: values['skip-liveness-check'] === true,
    };
    // Bad input is a usage error even when etcd is down.
    const problem = bindInputProblem(request);
    if (problem !== undefined) throw new UsageError(`invalid bind request: ${problem}`);
    return withDriverErrors(
      this,
      values,
      io,
      async (client) => {
        const result = await bindPort(client, request);
        io.out(
          format === 'json'
            ? `${JSON.stringify(result, null, 2)}\n`
            : `port ${request.portId} bound on host ${request.host}: vhost ${result.vhost_id} of physical network ${result.physical_network}, ${result.vif_type} socket ${result.vif_details.vhostuser_socket}, ${result.status}\n`,
        );
        return 0;
      },
      portRefusal,
    );
  },
};

export const portUnbindCommand: CliCommand = {
  path: ['port', 'unbind'],
  summary: 'unbind a port: set its action to unplug so the agent releases the vhost',
  description: [
    'A port without an action key has nothing to unbind: that is reported and exits 0, as',
    'unbinding an unbound port is not an error in neutron. With --wait, waits until the agent',
    "has removed the port's bind_port, action and port_status keys.",
    '',
    'Exit codes: 0 unplug requested, unbound, or nothing to unbind; 1 timeout or etcd',
    'unreachable; 2 bad usage.',
  ].join('\n'),
  options: {
    ...hostOption,
    ...portIdOption,
    wait: { type: 'boolean', help: 'wait until the agent has cleaned up the port' },
    ...timeoutOption,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const request = {
      host: str(values, 'host', true),
      portId: str(values, 'port-id', true),
      wait: values.wait === true,
      timeoutMs: timeoutMs(values),
    };
    const problem = unbindInputProblem(request);
    if (problem !== undefined) throw new UsageError(`invalid unbind request: ${problem}`);
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withDriverErrors(
      this,
      values,
      io,
      async (client) => {
        const result = await unbindPort(client, request);
        io.out(format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : `${result.message}\n`);
        return 0;
      },
      portRefusal,
    );
  },
};

export const portListCommand: CliCommand = {
  path: ['port', 'list'],
  summary: 'list bound ports: host, vhost, physical network, MAC, VLAN, action, status',
  description: [
    'Values that cannot be decoded are reported per field; no port is left out.',
    '',
    'exit status: 0 listed (none is a list too), 1 --host names a host etcd has no key of',
    '(as `spp status --host` does) / etcd error, 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'only ports of this host' },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = str(values, 'host');
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withEtcdClient(this, values, io, async (client) => {
      const rows = await listPorts(client, host);
      io.out(format === 'json' ? `${JSON.stringify(rows, null, 2)}\n` : formatPortTable(rows));
      if (host !== undefined && rows.length === 0 && !(await hostKnown(client, host))) {
        io.err(`spp port list: no keys for host ${host} under /spp/openstack/\n`);
        return 1;
      }
      return 0;
    });
  },
};

/** The commands of this file, registered in main.ts. */
export const portCommands: readonly CliCommand[] = [portBindCommand, portUnbindCommand, portListCommand];

/** Bind and unbind refuse with exit 1; bad input is a usage error. */
function portRefusal(err: unknown): number | 'usage' | undefined {
  if (!(err instanceof BindError || err instanceof UnbindError)) return undefined;
  return err.code === 'invalid_input' ? 'usage' : 1;
}
