import { keys } from '../../protocol/keys';
import { printable } from '../../protocol/printable';
import { readHostView } from '../../setup/view';
import { renderConfigShow } from '../../setup/view-text';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, checkHost, choice, formatOption, str } from '../framework';
import { withEtcdClient } from './etcd-session';

export const configShow: CliCommand = {
  path: ['config', 'show'],
  summary: "show a host's configuration, the spp_vf component layout per NIC and vhost usage",
  description: [
    "Reads /spp/openstack/configuration/<host> and the host's vhost keys and prints:",
    'the NICs (DPDK port, spp_vf sec_id, cores), the components the agent builds on',
    'each NIC (name, type, core, rx and tx ports), and which port owns each vhost.',
    'Invalid values are shown with the reason.',
    '',
    'example:',
    '  spp config show --host spp4',
    '',
    'exit status: 0 shown, 1 no or invalid configuration / etcd error, 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'compute host name (required)' },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = checkHost(str(values, 'host', true));
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withEtcdClient(this, values, io, async (client) => {
      const view = (await readHostView(client, host)).hosts[0];
      if (!view?.configuration) {
        io.err(`spp config show: host ${host} has no configuration (${keys.configuration(host)} does not exist)\n`);
        if (view && format === 'text') io.out(renderConfigShow(view));
        return 1;
      }
      io.out(format === 'json' ? `${JSON.stringify(view, null, 2)}\n` : renderConfigShow(view));
      if (!view.configuration.ok) {
        io.err(`spp config show: ${printable(view.configuration.error)}\n`);
        return 1;
      }
      // A configuration that decodes can still break the agent (core counts, overlaps): that is a failure too.
      const invalid = [...(view.validation?.errors ?? []), ...(view.layoutError ? [view.layoutError] : [])];
      for (const e of invalid) io.err(`spp config show: ${view.configuration.key}: ${printable(e)}\n`);
      return invalid.length > 0 ? 1 : 0;
    });
  },
};
