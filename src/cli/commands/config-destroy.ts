import { destroyHost } from '../../setup/destroy';
import { SetupConflict, SetupRefused } from '../../setup/errors';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, checkHost, choice, formatOption, str } from '../framework';
import { withEtcdClient } from './etcd-session';

export const configDestroy: CliCommand = {
  path: ['config', 'destroy'],
  summary: 'remove a compute host: its configuration and every vhost, bind_port, action, port_status and mirror key',
  description: [
    'Deletes /spp/openstack/configuration/<host> and every key under vhost/<host>/,',
    'bind_port/<host>/, action/<host>/, port_status/<host>/ and mirror/<host>/ in one',
    'transaction. Other hosts (spp40 when removing spp4 too) and the agent liveness key',
    'agent/<host> are not touched.',
    'Refused while ports are bound (a claimed vhost, a bind_port or an action key) or a',
    'tap flow claims a mirror, naming them, unless --force.',
    '',
    'example:',
    '  spp config destroy --host spp4',
    '',
    'exit status: 0 removed (or nothing to remove), 1 refused / etcd error, 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'compute host name (required)' },
    force: { type: 'boolean', help: 'remove the host even while ports are bound or mirrors claimed' },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = checkHost(str(values, 'host', true));
    const format = choice(values, 'format', ['text', 'json'] as const);
    return withEtcdClient(this, values, io, async (client) => {
      try {
        const r = await destroyHost(client, host, { force: values.force === true });
        for (const p of r.forcedPorts) io.err(`warning: removed although bound (--force): ${p}\n`);
        if (format === 'json') io.out(`${JSON.stringify({ host, deleted: r.deleted, forcedPorts: r.forcedPorts }, null, 2)}\n`);
        else if (r.deleted.length === 0) io.out(`host ${host}: no keys; nothing to remove\n`);
        else io.out(`host ${host}: removed ${r.deleted.length} key(s)\n${r.deleted.map((k) => `deleted ${k}\n`).join('')}`);
        return 0;
      } catch (err) {
        if (err instanceof SetupRefused || err instanceof SetupConflict) {
          io.err(`spp config destroy: ${err.message}\nnothing removed\n`);
          return 1;
        }
        throw err;
      }
    });
  },
};
