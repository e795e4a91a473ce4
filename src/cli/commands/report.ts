import { resolve } from 'node:path';
import { type ReportFile, renderSummary, writeArchive } from '../../report/archive';
import { collectReport } from '../../report/collect';
import { etcdConnectOptions, etcdOptions } from '../etcd-options';
import { type CliCommand, choice, formatOption, type Io, str, UsageError, type Values } from '../framework';
import { configShow } from './config-show';
import { withEtcdClient } from './etcd-session';
import { agentEndpointOptions, agentEndpoints } from './explain';
import { status } from './status';

/** A CLI command's output, run in-process with the report's own etcd settings. */
async function captured(cmd: CliCommand, values: Values, env: NodeJS.ProcessEnv): Promise<string> {
  let out = '';
  const io: Io = {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      out += `[stderr] ${s}`;
    },
    env,
  };
  const code = await cmd.run(values, [], io).catch((err: Error) => {
    out += `[error] ${err.message}\n`;
    return 1;
  });
  return `$ spp ${cmd.path.join(' ')} --host ${String(values.host)}\n${out}[exit ${code}]\n`;
}

export const reportCommand: CliCommand = {
  path: ['report'],
  summary: "write one .tar.gz to attach to a bug: the host's keys, status, spp-ctl, the agent's metrics, explanations, a replay, versions",
  description: [
    'Collects, for one host, with GETs only:',
    "  - the host's etcd keys with their revisions (also as etcdctl JSON, for `spp replay`);",
    '  - `spp status` and `spp config show`;',
    "  - spp-ctl's /v1/processes and every vf's status (--spp-ctl or SPP_CTL_URL);",
    "  - the agent's /metrics, /readyz and live view (--ops or SPP_OPS), when reachable;",
    '  - `spp explain` for every port that is not up;',
    "  - TaaS: each spp_mirror's status, the tap flows, and `spp explain --tap-flow-id` of each;",
    '  - a replay of the keys, and the versions of everything.',
    'It never includes a password or a key file: passwords are not read into it, and',
    'every etcd password this command knows is scrubbed from every file. A summary of',
    'what went in prints at the end.',
    '',
    'examples:',
    '  npx spp report --host compute-1',
    '  SPP_OPS=127.0.0.1:9180 SPP_CTL_URL=http://127.0.0.1:7777 npx spp report --host compute-1 --out /tmp/compute-1.tar.gz',
    '',
    'exit status: 0 written (parts that could not be reached are noted), 1 etcd error, 2 usage error.',
  ].join('\n'),
  options: {
    host: { type: 'string', arg: 'HOST', help: 'the compute host (required)' },
    out: { type: 'string', arg: 'FILE', help: 'the archive to write (default ./spp-report-<host>-<time>.tar.gz)' },
    ...agentEndpointOptions,
    ...formatOption,
    ...etcdOptions,
  },
  async run(values, _positionals, io) {
    const host = str(values, 'host');
    if (!host || host.includes('/')) throw new UsageError("--host HOST is required (no '/')");
    const format = choice(values, 'format', ['text', 'json'] as const);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const top = `spp-report-${host}-${stamp}`;
    const out = resolve(str(values, 'out') ?? `${top}.tar.gz`);
    if (!out.endsWith('.tar.gz') && !out.endsWith('.tgz')) throw new UsageError(`--out ${out}: expected a .tar.gz file name`);
    const etcd = etcdConnectOptions(values, io.env);
    // everything this process knows that must not leave it
    const secrets = [etcd.password, io.env.SPP_ETCD_PASSWORD, str(values, 'etcd-password')].filter((s): s is string => typeof s === 'string' && s !== '');
    return withEtcdClient(
      this,
      values,
      io,
      async (client) => {
        const collected = await collectReport({ client, host, ...agentEndpoints(values, io.env) });
        const own = { ...values, host, format: 'text' };
        const files: ReportFile[] = [
          { path: 'status.txt', what: '`spp status --host` output', content: await captured(status, own, io.env) },
          { path: 'config-show.txt', what: '`spp config show --host` output', content: await captured(configShow, own, io.env) },
          ...collected.files,
        ];
        const result = await writeArchive(out, top, files, secrets);
        io.out(
          format === 'json'
            ? `${JSON.stringify(
                {
                  archive: result.out,
                  bytes: result.bytes,
                  top,
                  files: files.map((f) => ({ path: f.path, bytes: Buffer.byteLength(f.content), what: f.what })),
                  notes: collected.notes,
                  secretsRemoved: result.scrubbed,
                },
                null,
                2,
              )}\n`
            : renderSummary(top, files, result, collected.notes),
        );
        return 0;
      },
      { budgetMs: false },
    );
  },
};
