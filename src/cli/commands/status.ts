import { readHostView } from '../../setup/view';
import { renderStatus } from '../../setup/view-text';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, checkHost, choice, formatOption, str } from '../framework';
import { withEtcdClient } from './etcd-session';

export const status: CliCommand = {
  path: ['status'],
  summary: 'show everything under /spp readably: hosts, NICs, vhosts and their ports, agent liveness',
  description: [
    'A readable form of `etcdctl get --prefix /spp`: per host whether its agent is alive,',
    "its NICs, every vhost with the port that owns it, the port's binding (MAC, flat or",
    'VLAN id), action and port_status, then every problem found: values that do not',
    'decode (with the reason), claims without bind_port, bind_port naming another vhost.',
    '',
    'examples:',
    '  spp status',
    '  spp status --host spp4 --format json',
    '',
    'exit status: 0 shown, 1 no keys for --host / etcd error, 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'show only this host' },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = checkHost(str(values, 'host'));
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withEtcdClient(this, values, io, async (client) => {
      const view = await readHostView(client, host);
      io.out(format === 'json' ? `${JSON.stringify(view, null, 2)}\n` : renderStatus(view));
      if (host !== undefined && view.hosts.length === 0) {
        io.err(`spp status: no keys for host ${host} under /spp/openstack/\n`);
        return 1;
      }
      return 0;
    });
  },
};
