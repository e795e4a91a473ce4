import { formatMappings, parseMappings } from '../../protocol/mappings';
import { printable } from '../../protocol/printable';
import { buildHost } from '../../setup/build';
import { SetupConflict, SetupRefused } from '../../setup/errors';
import { etcdOptions } from '../etcd-options';
import { type CliCommand, checkHost, choice, formatOption, str, UsageError } from '../framework';
import { withEtcdClient } from './etcd-session';

export const configBuild: CliCommand = {
  path: ['config', 'build'],
  summary: 'set up a compute host: write configuration/<host> and its free vhost keys',
  description: [
    'Validates DPDK_PORT_MAPPINGS (<pci>#<physical_network>#<num_vhost>#<core_mask>,... in',
    'DPDK port order), then writes /spp/openstack/configuration/<host> and',
    '/spp/openstack/vhost/<host>/<phys>/<id> = None for each vhost (ids numbered across',
    'the host, NIC after NIC). Every validation error is printed and nothing is written.',
    '',
    'Safe to run again: vhosts claimed by ports keep their owner; free vhosts the new',
    'mappings no longer have are deleted. A change that would drop or move a claimed',
    'vhost is refused unless --force.',
    '',
    'example:',
    "  spp config build --host spp4 --mappings '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02'",
    '',
    'exit status: 0 written (or already up to date), 1 refused (a claimed vhost; --force) /',
    'etcd error, 2 usage error: invalid mappings (each error is listed; nothing is written),',
    'as `spp sim` treats them.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'compute host name as neutron knows it (required)' },
    mappings: { type: 'string', arg: 'MAPPINGS', help: 'NIC list <pci>#<phys>#<num_vhost>#<core_mask>,... (env DPDK_PORT_MAPPINGS)' },
    force: { type: 'boolean', help: 'drop or move vhosts even when ports have claimed them' },
    'lenient-limits': {
      type: 'boolean',
      help: 'report limits of the real spp-ctl/spp_vf (vhosts per NIC, port numbers) as warnings, not errors',
    },
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = checkHost(str(values, 'host', true));
    const mappings = str(values, 'mappings') ?? (io.env.DPDK_PORT_MAPPINGS || undefined);
    if (mappings === undefined) throw new UsageError('--mappings (or env DPDK_PORT_MAPPINGS) is required');
    const lenient = values['lenient-limits'] === true;
    const format = choice(values, 'format', ['text', 'json'] as const);
    const parsed = parseMappings(mappings, { beyondRealLimits: lenient });
    for (const w of parsed.warnings) io.err(`warning: ${w}\n`);
    if (!parsed.configuration) {
      io.err(`spp config build: invalid mappings ${JSON.stringify(mappings)}; nothing written:\n`);
      for (const e of parsed.errors) io.err(`  - ${e}\n`);
      return 2;
    }
    const configuration = parsed.configuration;
    return withEtcdClient(this, values, io, async (client) => {
      try {
        const r = await buildHost(client, host, configuration, { force: values.force === true, beyondRealLimits: lenient });
        for (const w of r.warnings) io.err(`warning: ${w}\n`);
        if (format === 'json') {
          const { changed, configurationChanged, created, deleted, keptClaims, warnings } = r;
          io.out(
            `${JSON.stringify({ host, mappings: formatMappings(configuration), changed, configurationChanged, created, deleted, keptClaims, warnings }, null, 2)}\n`,
          );
          return 0;
        }
        io.out(`host ${host}: ${formatMappings(configuration)}\n`);
        if (!r.changed) {
          io.out('already up to date; nothing written\n');
        } else {
          io.out(`configuration ${r.configurationChanged ? 'written' : 'unchanged'}\n`);
          for (const k of r.created) io.out(`created ${k} = None\n`);
          for (const k of r.deleted) io.out(`deleted ${k}\n`);
        }
        for (const c of r.keptClaims) io.out(`kept ${c.key} (claimed by port ${printable(c.portId)})\n`);
        return 0;
      } catch (err) {
        if (err instanceof SetupRefused || err instanceof SetupConflict) {
          io.err(`spp config build: ${err.message}\nnothing written\n`);
          return 1;
        }
        throw err;
      }
    });
  },
};
