/**
 * `spp sim`: the spp-ctl emulator as a stand-alone server, a stand-in for
 * spp-ctl and its spp_vf processes in development and CI.
 */

import { parseListen } from '../../listen';
import { createLogger, LOG_LEVELS, type LogLevel } from '../../log';
import { coreMaskBits, parseMappings } from '../../protocol/mappings';
import { type MirrorSpec, startEmulatorServer, type VfSpec } from '../../sppctl/emulator';
import { behaviourOf, DEFAULT_SPP_RELEASE, isSppRelease, SPP_RELEASES } from '../../sppctl/releases';
import { allowHostOption, allowHostsOf, type CliCommand, type Io, int, num, str, UsageError, type Values } from '../framework';

function listenOf(text: string): { host: string; port: number } {
  try {
    return parseListen(text, '--listen');
  } catch {
    throw new UsageError(`--listen must be HOST:PORT (e.g. 127.0.0.1:7777), got ${JSON.stringify(text)}`);
  }
}

function list(values: Values, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}

/** `--vf` or `--mirror` ID:COREMASK. */
function parseProcess(option: 'vf' | 'mirror', text: string): VfSpec & MirrorSpec {
  const m = /^([0-9]+):(.+)$/.exec(text);
  if (!m) throw new UsageError(`--${option} must be ID:COREMASK (e.g. ${option === 'vf' ? '1:0x1fe' : '2:0x30002'}), got ${JSON.stringify(text)}`);
  const secId = Number(m[1]);
  if (secId < 1 || secId > 127) throw new UsageError(`--${option} ${text}: the client id must be 1-127`);
  const bits = coreMaskBits(m[2]!);
  if (!bits) throw new UsageError(`--${option} ${text}: ${JSON.stringify(m[2])} is not a hex core mask selecting at least one core`);
  if (bits.occupied.length === 0) throw new UsageError(`--${option} ${text}: core mask ${m[2]} has only the master core ${bits.master}, no worker`);
  return { secId, coreMask: m[2]! };
}

function parseAppear(text: string): { secId: number; ms: number } {
  const m = /^([0-9]+):([0-9]+)$/.exec(text);
  if (!m) throw new UsageError(`--appear-after must be ID:MS (e.g. 1:3000), got ${JSON.stringify(text)}`);
  return { secId: Number(m[1]), ms: Number(m[2]) };
}

export const simCommand: CliCommand = {
  path: ['sim'],
  summary: 'run the spp-ctl emulator (spp-ctl REST API in front of emulated spp_vf processes)',
  description: [
    "Serves spp-ctl's REST API for spp_vf (GET /v1/processes, /v1/vfs/<id>, components,",
    'ports, classifier_table) and spp_mirror (/v1/mirrors/<id>, components, ports) with the',
    'status codes, texts and rules of the real ones, plus test hooks under /_sim/ (see',
    'docs/emulator.md). It moves no packets.',
    '',
    'The vfs come from --mappings (one vf per NIC, client id = NIC index + 1, lcores =',
    'the core mask bits, master = lowest bit) or from --vf ID:COREMASK (repeatable).',
    '--mirror ID:COREMASK (repeatable) adds an spp_mirror; its id shares the table with',
    "the vfs' ids (devstack gives it the number of NICs + 1), one mirror component per",
    'worker core.',
    'By default the observed bugs of the real spp-ctl are reproduced (500 for bad values,',
    '500 for a status of 4096 bytes or more, hang on a master-lcore component, wedge after',
    'a missing ring); --lenient gives the intended behaviour instead.',
    '',
    '--spp-version models what an agent sees of a later SPP release (default 18.08, the',
    "spec's 8905dee): the classifier type `classifier` (18.08.4+), mixed component types",
    'on one core (18.08.2+), master-lcore in the status and the new error texts (18.08.3+),',
    'DELETE /v1/vfs/<id> (18.08.4+), GET /v1/processes dropping a vf whose status is 4096',
    'bytes or more (18.08.3-19.08), no status size limit and 400 `Not in json format.` (19.11).',
    'Replies come at once unless --poll-interval is given; `--poll-interval release` uses',
    "the release's own loop (1 s until 18.08.1, sub-ms from 18.08.2 on).",
    '',
    'Examples:',
    '  spp sim --listen 127.0.0.1:7777 --mappings 00:04.0#phys1#2#0xfe',
    '  spp sim --vf 1:0x1fe --vf 2:0xfe00 --poll-interval 1000',
    '  spp sim --spp-version 19.11 --mappings 00:04.0#phys1#2#0xfe',
    '  spp sim --mappings 00:04.0#phys1#2#0xfe --mirror 2:0x30002',
    '',
    'Runs until SIGINT/SIGTERM (exit 0). Exit 2 on usage errors, 1 if it cannot listen.',
  ].join('\n'),
  options: {
    listen: { type: 'string', arg: 'HOST:PORT', default: '127.0.0.1:7777', help: 'address to serve on (default 127.0.0.1:7777; port 0 = any free port)' },
    mappings: { type: 'string', arg: 'MAPPINGS', help: 'DPDK_PORT_MAPPINGS <pci>#<phys>#<num_vhost>#<core_mask>,... (env DPDK_PORT_MAPPINGS)' },
    vf: { type: 'string', multiple: true, arg: 'ID:COREMASK', help: 'an spp_vf with this client id and core mask (repeatable; instead of --mappings)' },
    mirror: { type: 'string', multiple: true, arg: 'ID:COREMASK', help: 'an spp_mirror with this client id and core mask (repeatable)' },
    lenient: { type: 'boolean', help: 'intended behaviour instead of the observed bugs (400 invalid key, no 4096-byte limit, no hang)' },
    'overflow-desync': {
      type: 'boolean',
      help: 'after a reply of 4096+ bytes, read later replies to that vf off by one, as the real spp-ctl does (until restart)',
    },
    'spp-version': {
      type: 'string',
      arg: 'RELEASE',
      default: DEFAULT_SPP_RELEASE,
      help: `SPP release to model: ${SPP_RELEASES.join('|')} (default ${DEFAULT_SPP_RELEASE})`,
    },
    'poll-interval': {
      type: 'string',
      arg: 'MS|release',
      help: "spp_vf main-loop period: each command is answered at the next tick (default 0; `release`: the release's own, 1000 until 18.08.1)",
    },
    latency: { type: 'string', arg: 'MS', help: 'added latency per request (default 0)' },
    rings: { type: 'string', arg: 'N', help: 'rings the primary created (default 2 x total vhosts of the mappings, else 32)' },
    'phy-ports': { type: 'string', arg: 'N', help: 'phy ports each vf sees (default: NICs in the mappings, else 1)' },
    'appear-after': { type: 'string', multiple: true, arg: 'ID:MS', help: 'vf or mirror ID connects to spp-ctl only MS ms after start (repeatable)' },
    ...allowHostOption,
    'log-level': { type: 'string', arg: 'LEVEL', default: 'info', help: `log level: ${LOG_LEVELS.join('|')} (requests are logged at debug)` },
    'log-format': { type: 'string', arg: 'json|pretty', default: 'pretty', help: 'log format (default pretty)' },
  },
  async run(values: Values, positionals: string[], io: Io): Promise<number> {
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const listen = listenOf(str(values, 'listen') ?? '127.0.0.1:7777');
    const allowHosts = allowHostsOf(values);
    const mappingsText = str(values, 'mappings') ?? io.env.DPDK_PORT_MAPPINGS;
    const vfArgs = list(values, 'vf');
    if (vfArgs.length > 0 && str(values, 'mappings')) throw new UsageError('give either --mappings or --vf, not both');
    let vfs: VfSpec[];
    let mappings;
    if (vfArgs.length > 0) {
      vfs = vfArgs.map((a) => parseProcess('vf', a));
      const dup = vfs.find((v, i) => vfs.findIndex((w) => w.secId === v.secId) !== i);
      if (dup) throw new UsageError(`--vf: client id ${dup.secId} is given twice`);
    } else if (mappingsText) {
      const parsed = parseMappings(mappingsText, { beyondRealLimits: true });
      if (!parsed.configuration) throw new UsageError(`--mappings: ${parsed.errors.join('; ')}`);
      for (const w of parsed.warnings) io.err(`spp sim: warning: ${w}\n`);
      mappings = parsed.configuration;
      vfs = mappings.map((nic, i) => ({ secId: i + 1, coreMask: nic.core_mask }));
    } else {
      throw new UsageError('give --mappings (or env DPDK_PORT_MAPPINGS) or at least one --vf ID:COREMASK');
    }
    const mirrors: MirrorSpec[] = list(values, 'mirror').map((a) => parseProcess('mirror', a));
    for (const [i, m] of mirrors.entries()) {
      if (vfs.some((v) => v.secId === m.secId) || mirrors.findIndex((o) => o.secId === m.secId) !== i)
        throw new UsageError(`--mirror: client id ${m.secId} is given twice (vfs and mirrors share the ids)`);
    }
    for (const a of list(values, 'appear-after').map(parseAppear)) {
      const i = vfs.findIndex((v) => v.secId === a.secId);
      const j = mirrors.findIndex((v) => v.secId === a.secId);
      if (i < 0 && j < 0)
        throw new UsageError(`--appear-after: there is no vf ${a.secId} nor mirror with that id (ids: ${[...vfs, ...mirrors].map((v) => v.secId).join(', ')})`);
      if (i >= 0) vfs[i] = { ...vfs[i]!, appearAfterMs: a.ms };
      else mirrors[j] = { ...mirrors[j]!, appearAfterMs: a.ms };
    }
    const level = str(values, 'log-level') ?? 'info';
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    const format = str(values, 'log-format') ?? 'pretty';
    if (format !== 'json' && format !== 'pretty') throw new UsageError(`--log-format must be json or pretty, got ${JSON.stringify(format)}`);
    const log = createLogger({ level: level as LogLevel, format, defaultMeta: { component: 'spp-sim' } });
    const rings = values.rings === undefined ? undefined : int(values, 'rings', 0, 0);
    const phyPorts = values['phy-ports'] === undefined ? undefined : int(values, 'phy-ports', 1, 0);
    const sppVersion = str(values, 'spp-version') ?? DEFAULT_SPP_RELEASE;
    if (!isSppRelease(sppVersion)) throw new UsageError(`--spp-version must be one of ${SPP_RELEASES.join(', ')}, got ${JSON.stringify(sppVersion)}`);
    const pollIntervalMs = str(values, 'poll-interval') === 'release' ? behaviourOf(sppVersion).mainLoopMs : num(values, 'poll-interval', 0);
    const latencyMs = num(values, 'latency', 0);

    let server;
    try {
      server = await startEmulatorServer({
        listen,
        allowHosts,
        vfs,
        mirrors,
        ...(mappings ? { mappings } : {}),
        ...(rings !== undefined ? { rings } : {}),
        ...(phyPorts !== undefined ? { phyPorts } : {}),
        lenient: values.lenient === true,
        sppVersion,
        overflowDesync: values['overflow-desync'] === true,
        pollIntervalMs,
        latencyMs,
        onRequest: (method, path, status, ms) => log.debug('request', { method, path, status, ms }),
      });
    } catch (err) {
      io.err(`spp sim: cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}\n`);
      return 1;
    }
    const describe = [...vfs.map((v) => ({ ...v, kind: 'vf' })), ...mirrors.map((m) => ({ ...m, kind: 'mirror' }))]
      .map((v) => `${v.kind} ${v.secId} (core mask ${v.coreMask}${v.appearAfterMs ? `, appears after ${v.appearAfterMs} ms` : ''})`)
      .join(', ');
    io.out(`spp-ctl emulator listening on ${server.url} (SPP ${sppVersion}${values.lenient ? ', lenient' : ''})\nserving ${describe}\n`);
    log.info('emulator started', {
      url: server.url,
      vfs: vfs.map((v) => v.secId),
      mirrors: mirrors.map((m) => m.secId),
      lenient: values.lenient === true,
      sppVersion,
      pollIntervalMs,
    });
    const srv = server;
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
        log.info('stopping', { signal });
        void srv.close().then(resolve);
      };
      const onInt = (): void => stop('SIGINT');
      const onTerm = (): void => stop('SIGTERM');
      process.on('SIGINT', onInt);
      process.on('SIGTERM', onTerm);
    });
    return 0;
  },
};
