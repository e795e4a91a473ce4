import { readFile } from 'node:fs/promises';
import { CONFIG_FORMATS, type ConfigFormat, FORMAT_READERS } from '../../protocol/configuration';
import { formatMappings, parseMappings } from '../../protocol/mappings';
import { printable } from '../../protocol/printable';
import { buildHost, type DeclaredLayouts } from '../../setup/build';
import { readComponentFile } from '../../setup/component-file';
import { SetupConflict, SetupRefused } from '../../setup/errors';
import { type MirrorRequest, mirrorDecls, parseMirrorRequest } from '../../setup/mirrors';
import { checkStatusSize } from '../../setup/status-size';
import { behaviourOf, isSppRelease, SPP_RELEASES } from '../../sppctl/releases';
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
    "Configuration formats (neutron's driver reads only one; each crashes on the other):",
    `  final   {"vf": [{..., "components": [...]}], "mirror": [...]}: read by ${FORMAT_READERS.final}`,
    `  legacy  [{...}, ...]: read by ${FORMAT_READERS.legacy}`,
    'Without --config-format the shape the other hosts in etcd use is kept (and said);',
    'with no other host, final. Our agent and `spp port bind` read both.',
    '',
    "Declared layouts (final format only): --components FILE takes SPP_COMPONENT_CONF's",
    'yaml (or the same as JSON): top key vf, one {components: [...]} per NIC in mapping',
    'order, each component {core, name, type, rx_port, tx_port}; optional mirror. Cores',
    "must be worker cores of the NIC's mask; every vhost must be reached from the",
    'classifier and lead back into the merger, directly or through one forward.',
    'Without it, components are computed as the final set-up script does (2n+2 cores).',
    '',
    "Mirrors (TaaS, final format only): --mirrors N#MASK is SPP_MIRROR's format. Mirror i",
    'runs on the (i+1)-th lowest core of MASK (the lowest is the master) with rings',
    'ring:<2V+2i> and ring:<2V+2i+1>, V = the vhosts of the host; mirror/<host>/<i> = None',
    'is written for each. A mirror core a vf occupies or runs its master on is refused.',
    'A mirror claimed by a tap flow keeps its owner; dropping it is refused unless --force.',
    '',
    'examples:',
    "  spp config build --host spp4 --mappings '00:04.0#phys1#2#0xfe,00:05.0#phys2#2#0xfc02'",
    "  spp config build --host spp4 --spp-version 18.08.4 --mappings '00:04.0#phys1#5#0x1fff'",
    "  spp config build --host spp4 --mappings '00:04.0#phys1#2#0xc2' --components sample_2.yaml --dry-run",
    "  spp config build --host spp4 --mappings '00:04.0#phys1#2#0xfe' --mirrors 2#0x30002",
    '',
    'exit status: 0 written (or already up to date), 1 refused (a claimed vhost or mirror;',
    '--force) / etcd error, 2 usage error: invalid mappings or mirrors (each error is listed;',
    'nothing is written),',
    'as `spp sim` treats them.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'compute host name as neutron knows it (required)' },
    mappings: { type: 'string', arg: 'MAPPINGS', help: 'NIC list <pci>#<phys>#<num_vhost>#<core_mask>,... (env DPDK_PORT_MAPPINGS)' },
    force: { type: 'boolean', help: 'drop or move vhosts even when ports have claimed them' },
    'config-format': { type: 'string', arg: 'final|legacy', help: 'shape of configuration/<host> (default: as the other hosts, else final)' },
    components: { type: 'string', arg: 'FILE', help: 'declared spp_vf layouts, SPP_COMPONENT_CONF yaml or JSON (env SPP_COMPONENT_CONF)' },
    'mixed-core-types': {
      type: 'boolean',
      help: "the host's spp_vf takes two component types on one core (SPP 18.08.2 and later; implied by --spp-version 18.08.2 or later)",
    },
    mirrors: { type: 'string', arg: 'N#MASK', help: 'spp_mirror components for TaaS, e.g. 2#0x30002 (env SPP_MIRROR); final format only' },
    'dry-run': { type: 'boolean', help: 'print what would be written; write nothing' },
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
    const formatWord = str(values, 'config-format');
    if (formatWord !== undefined && !(CONFIG_FORMATS as readonly string[]).includes(formatWord)) {
      throw new UsageError(`--config-format: ${JSON.stringify(formatWord)} is not one of ${CONFIG_FORMATS.join(', ')}`);
    }
    const file = str(values, 'components') ?? (io.env.SPP_COMPONENT_CONF || undefined);
    let declared: DeclaredLayouts | undefined;
    if (file !== undefined) {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        io.err(`spp config build: cannot read --components ${file}: ${(err as Error).message}; nothing written\n`);
        return 1;
      }
      const d = readComponentFile(file, text);
      if (!d.ok) {
        io.err(`spp config build: invalid declared layouts; nothing written:\n  - ${d.error}\n`);
        return 1;
      }
      declared = d.value;
    }
    const parsed = parseMappings(mappings, { beyondRealLimits: lenient, declaredLayouts: declared !== undefined, statusSizeMeasured: true });
    // measured on the layout that will run: the declared one where there is one
    const sized =
      parsed.configuration && declared ? parsed.configuration.map((n, i) => ({ ...n, components: [...(declared.vf[i] ?? [])] })) : parsed.configuration;
    const size = sized ? checkStatusSize(sized, release, declared ? 'final' : 'legacy') : { errors: [], warnings: [] };
    for (const w of [...parsed.warnings, ...size.warnings]) io.err(`warning: ${w}\n`);
    const errors = [...parsed.errors, ...size.errors];
    if (!parsed.configuration || errors.length > 0) {
      io.err(`spp config build: invalid mappings ${JSON.stringify(mappings)}; nothing written:\n`);
      for (const e of errors) io.err(`  - ${e}\n`);
      return 2;
    }
    const configuration = parsed.configuration;
    const mirrorText = str(values, 'mirrors') ?? (io.env.SPP_MIRROR || undefined);
    let mirrors: MirrorRequest | undefined;
    if (mirrorText !== undefined) {
      const source = str(values, 'mirrors') !== undefined ? '--mirrors' : 'SPP_MIRROR';
      const m = parseMirrorRequest(mirrorText, source);
      const problems = m.ok ? mirrorDecls(m.value, sized ?? configuration).errors : [m.error];
      if (formatWord === 'legacy') problems.push(`${source} needs the final format: the c33920f array (--config-format legacy) has no "mirror" list`);
      if (!m.ok || problems.length > 0) {
        io.err(`spp config build: invalid mirrors ${JSON.stringify(mirrorText)}; nothing written:\n`);
        for (const e of problems) io.err(`  - ${e}\n`);
        return 2;
      }
      mirrors = m.value;
    }
    const dryRun = values['dry-run'] === true;
    return withEtcdClient(this, values, io, async (client) => {
      try {
        const r = await buildHost(client, host, configuration, {
          force: values.force === true,
          beyondRealLimits: lenient,
          format: (formatWord as ConfigFormat | undefined) ?? 'auto',
          ...(declared ? { declared } : {}),
          // 18.08.2 and later take two types on one core: --spp-version says so as well as the flag
          mixedCoreTypes: values['mixed-core-types'] === true || (release !== undefined && behaviourOf(release).mixedCoreTypes),
          dryRun,
          ...(mirrors ? { mirrors } : {}),
        });
        for (const w of r.warnings) io.err(`warning: ${w}\n`);
        if (format === 'json') {
          const { changed, configurationChanged, created, deleted, keptClaims, keptMirrors, mirror, warnings } = r;
          const body = {
            host,
            mappings: formatMappings(configuration),
            changed,
            configurationChanged,
            created,
            deleted,
            keptClaims,
            keptMirrors,
            mirror,
            warnings,
          };
          io.out(`${JSON.stringify(body, null, 2)}\n`);
          return 0;
        }
        io.out(`host ${host}: ${formatMappings(configuration)}\n`);
        io.out(`format: ${r.format}: ${r.formatReason}\n`);
        for (const [i, m] of r.mirror.entries()) io.out(`mirror ${i}: core ${m.core}, rings ${m.ports.map(printable).join(' ')}\n`);
        if (dryRun) {
          io.out(`dry run: nothing written\nconfiguration value: ${r.value}\n`);
          for (const w of r.wouldWrite) io.out(`would ${w}\n`);
          if (r.wouldWrite.length === 0) io.out('etcd already holds exactly this set-up\n');
          return 0;
        }
        if (!r.changed) {
          io.out('already up to date; nothing written\n');
        } else {
          io.out(`configuration ${r.configurationChanged ? 'written' : 'unchanged'}\n`);
          for (const k of r.created) io.out(`created ${k} = None\n`);
          for (const k of r.deleted) io.out(`deleted ${k}\n`);
        }
        for (const c of r.keptClaims) io.out(`kept ${c.key} (claimed by port ${printable(c.portId)})\n`);
        for (const c of r.keptMirrors) io.out(`kept ${c.key} (claimed by tap flow ${printable(c.tapFlowId)})\n`);
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
