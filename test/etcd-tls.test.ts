/**
 * `spp` commands over TLS: a throwaway CA, server and client certificates
 * made with openssl in the test's temp dir, and a real etcd that serves
 * only TLS and requires a client certificate.
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import anyTest, { type TestFn } from 'ava';
import { connectEtcd } from '../src/etcd/connect';
import { freePort } from '../src/localetcd/ports';
import { keys } from '../src/protocol/keys';
import { runCli } from './helpers/cli';
import { startLoggedAgent } from './helpers/logged-agent';
import { until } from './helpers/system';
import { sleep } from './helpers/wait';

interface TlsContext {
  dir: string;
  endpoint: string;
  etcd: ChildProcess;
  files: { ca: string; cert: string; key: string };
}

const test = anyTest as TestFn<TlsContext>;
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a certificate for 127.0.0.1 (server) and one for a client, EC P-256, valid a day. */
function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=spp test CA']);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, cn] of [
    ['server', '127.0.0.1'],
    ['client', 'spp-client'],
  ] as const) {
    openssl(dir, ['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ]);
  }
}

test.before(async (t) => {
  if (!haveOpenssl) return;
  const dir = mkdtempSync(join(tmpdir(), 'spp-tls-'));
  makeCertificates(dir);
  const [client, peer] = [await freePort(), await freePort()];
  const url = `https://127.0.0.1:${client}`;
  const etcd = spawn(
    'etcd',
    [
      '--name',
      'tls',
      '--data-dir',
      join(dir, 'data'),
      '--listen-client-urls',
      url,
      '--advertise-client-urls',
      url,
      '--listen-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${peer}`,
      '--initial-cluster',
      `tls=http://127.0.0.1:${peer}`,
      '--cert-file',
      join(dir, 'server.pem'),
      '--key-file',
      join(dir, 'server.key'),
      '--client-cert-auth',
      '--trusted-ca-file',
      join(dir, 'ca.pem'),
      '--log-level',
      'error',
      '--logger',
      'zap',
    ],
    { stdio: 'ignore' },
  );
  t.context = { dir, endpoint: `127.0.0.1:${client}`, etcd, files: { ca: join(dir, 'ca.pem'), cert: join(dir, 'client.pem'), key: join(dir, 'client.key') } };
  const probe = connectEtcd({
    endpoints: [t.context.endpoint],
    caFile: t.context.files.ca,
    certFile: t.context.files.cert,
    keyFile: t.context.files.key,
    callTimeoutMs: 1000,
  });
  try {
    for (let i = 0; ; i++) {
      try {
        await probe.maintenance.status();
        break;
      } catch (err) {
        if (i > 100 || etcd.exitCode !== null) throw err;
        await sleep(100);
      }
    }
  } finally {
    probe.close();
  }
});

test.after.always((t) => {
  t.context.etcd?.kill('SIGKILL');
  if (t.context.dir) rmSync(t.context.dir, { recursive: true, force: true });
});

const tlsTest = haveOpenssl ? test.serial : test.serial.skip;

tlsTest('config build and status connect over TLS with a CA file and a client certificate, from flags or SPP_ETCD_* variables', async (t) => {
  const { ca, cert, key } = t.context.files;
  const flags = ['--etcd-endpoints', t.context.endpoint, '--etcd-ca-file', ca, '--etcd-cert-file', cert, '--etcd-key-file', key];
  const build = await runCli(['config', 'build', '--host', 'tls1', '--mappings', '00:04.0#phys1#2#0xfe', ...flags]);
  t.is(build.code, 0, build.err);
  const env = { SPP_ETCD_ENDPOINTS: t.context.endpoint, SPP_ETCD_CA_FILE: ca, SPP_ETCD_CERT_FILE: cert, SPP_ETCD_KEY_FILE: key };
  const status = await runCli(['status', '--host', 'tls1', '--format', 'json'], env);
  t.is(status.code, 0, status.err);
  t.true(status.out.includes(keys.configuration('tls1')));
  const list = await runCli(['port', 'list', '--host', 'tls1'], env);
  t.is(list.code, 0, list.err);
});

tlsTest('without the client certificate, or without TLS, the command fails with a message naming the endpoint', async (t) => {
  const { ca, cert } = t.context.files;
  const noCert = await runCli(['status', '--etcd-endpoints', t.context.endpoint, '--etcd-ca-file', ca]);
  t.is(noCert.code, 1);
  t.true(noCert.err.startsWith(`spp status: cannot reach etcd at ${t.context.endpoint}: `), noCert.err);
  t.true(
    noCert.err.includes('Check --etcd-endpoints / SPP_ETCD_ENDPOINTS, the TLS files (--etcd-ca-file / SPP_ETCD_CA_FILE) and that etcd is running.'),
    noCert.err,
  );
  const plain = await runCli(['status', '--etcd-endpoints', t.context.endpoint]);
  t.is(plain.code, 1);
  t.true(plain.err.startsWith(`spp status: cannot reach etcd at ${t.context.endpoint}: `), plain.err);
  const half = await runCli(['status', '--etcd-endpoints', t.context.endpoint, '--etcd-ca-file', ca, '--etcd-cert-file', cert]);
  t.is(half.code, 2);
  t.regex(half.err, /flag --etcd-cert-file and --etcd-key-file \/ SPP_ETCD_KEY_FILE go together/);
  // a file that cannot be read is the setting's fault, found before any connection: a usage error naming the flag
  const unreadable = await runCli(['status', '--etcd-endpoints', t.context.endpoint, '--etcd-ca-file', join(t.context.dir, 'missing.pem')]);
  t.is(unreadable.code, 2);
  t.regex(unreadable.err, /^spp status: flag --etcd-ca-file: cannot read .*missing\.pem: ENOENT/);
});

tlsTest('a CA that did not sign etcd: the agent logs the TLS cause once, naming the endpoint; /readyz and the page say it (issue 26)', async (t) => {
  const { dir, endpoint, files } = t.context;
  const other = join(dir, 'other');
  mkdirSync(other, { recursive: true });
  openssl(other, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=another CA',
  ]);
  const a = await startLoggedAgent(t, {
    host: 'c1',
    etcdEndpoints: endpoint,
    etcdCaFile: join(other, 'ca.pem'),
    etcdCertFile: files.cert,
    etcdKeyFile: files.key,
  });
  await until(() => a.logs.some((l) => l.message === 'etcd trouble'), 'the cause logged', 10_000);
  await new Promise((r) => setTimeout(r, 3000));
  const trouble = a.logs.filter((l) => l.message === 'etcd trouble');
  t.is(trouble.length, 1, JSON.stringify(trouble));
  t.is(trouble[0]?.kind, 'tls');
  t.is(trouble[0]?.endpoint, endpoint);
  t.regex(String(trouble[0]?.cause), /TLS handshake failed: .*certificate/i);
  const ready = await a.readyz();
  t.is(ready.body.trim(), `not ready: taking the host lock agent-lock/c1: ${trouble[0]?.cause}`);
  t.is(((await a.page()).readiness as { reason?: string } | undefined)?.reason, `taking the host lock agent-lock/c1: ${trouble[0]?.cause}`);
});
