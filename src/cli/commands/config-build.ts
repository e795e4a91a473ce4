import { formatMappings, parseMappings } from '../../protocol/mappings';
import { printable } from '../../protocol/printable';
import { buildHost } from '../../setup/build';
import { SetupConflict, SetupRefused } from '../../setup/errors';
import { checkStatusSize } from '../../setup/status-size';
import { isSppRelease, SPP_RELEASES } from '../../sppctl/releases';
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
    "The status of each NIC's spp_vf, with every vhost plugged, is measured as the emulator",
    'renders it: SPP up to 19.08 cannot return one of 4096 bytes or more. With --spp-version',
    'such a NIC is refused on those releases; without it, it is a warning.',
    '',
    'Safe to run again: vhosts claimed by ports keep their owner; free vhosts the new',
    'mappings no longer have are deleted. A change that would drop or move a claimed',
    'vhost is refused unless --force.',
    '',
    'example:',
    "  spp config build --host spp4 --mappings '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02'",
    "  spp config build --host spp4 --spp-version 18.08.4 --mappings '00:04.0#phys1#5#0x1fff'",
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
    'spp-version': {
      type: 'string',
      arg: 'RELEASE',
      help: `the SPP release of this host (${SPP_RELEASES.join('|')}): refuse a NIC whose status it cannot return (default: unknown, warn)`,
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
    const release = str(values, 'spp-version');
    if (release !== undefined && !isSppRelease(release))
      throw new UsageError(`--spp-version must be one of ${SPP_RELEASES.join(', ')}, got ${JSON.stringify(release)}`);
    const parsed = parseMappings(mappings, { beyondRealLimits: lenient, statusSizeMeasured: true });
    const size = parsed.configuration ? checkStatusSize(parsed.configuration, release) : { errors: [], warnings: [] };
    for (const w of [...parsed.warnings, ...size.warnings]) io.err(`warning: ${w}\n`);
    const errors = [...parsed.errors, ...size.errors];
    if (!parsed.configuration || errors.length > 0) {
      io.err(`spp config build: invalid mappings ${JSON.stringify(mappings)}; nothing written:\n`);
      for (const e of errors) io.err(`  - ${e}\n`);
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
