/**
 * An etcd backup (`etcdctl snapshot save` file) served for the replay: the
 * file is restored with the installed etcd tools (`etcdutl snapshot restore`
 * where etcdutl exists, else `etcdctl snapshot restore`) into a temporary
 * data dir, and a temporary etcd on a free loopback port serves it. The
 * restore keeps the backend's MVCC revisions, so the replay reads the
 * backup's history like a live cluster's. close() removes everything.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { LocalEtcd } from '../localetcd/etcd-server';
import { InputError } from './input';

const run = promisify(execFile);

/** bbolt's meta page magic (the backend file format of etcd v3), after the 16-byte page header. */
const BOLT_MAGIC = 0xed0cdaed;

/** Whether the file starts like a bbolt database, the format of `etcdctl snapshot save`. */
export async function looksLikeEtcdSnapshot(path: string): Promise<boolean> {
  const fh = await open(path, 'r').catch((err: Error) => {
    throw new InputError(`${path}: cannot read: ${err.message}`);
  });
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    return bytesRead === 20 && head.readUInt32LE(16) === BOLT_MAGIC;
  } finally {
    await fh.close();
  }
}

/** Whether the file is binary (a NUL in its first 8 KiB): no text input of the replay is. */
export async function looksBinary(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).includes(0);
  } finally {
    await fh.close();
  }
}

export function notASnapshot(path: string): InputError {
  return new InputError(
    `${path}: not an etcd snapshot (an \`etcdctl snapshot save\` file starts with a bbolt header) and not a text input ` +
      '(etcdctl get --prefix output, its -w json form, or an agent --record log)',
  );
}

async function onPath(tool: string): Promise<boolean> {
  try {
    await run(tool, ['version'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export interface ServedBackup {
  readonly endpoints: readonly string[];
  /** The tool that restored the file, e.g. `etcdctl snapshot restore`. */
  readonly restoredWith: string;
  /** Stops the temporary etcd and deletes its data. */
  close(): Promise<void>;
}

/** Restores `path` and serves it from a temporary single-member etcd on loopback. */
export async function serveBackup(path: string): Promise<ServedBackup> {
  if (!(await looksLikeEtcdSnapshot(path))) throw notASnapshot(path);
  const tool = (await onPath('etcdutl')) ? 'etcdutl' : 'etcdctl';
  const etcd = await LocalEtcd.start(1, {
    prepare: async (member, cluster) => {
      const args = [
        'snapshot',
        'restore',
        path,
        '--data-dir',
        member.dataDir,
        '--name',
        member.name,
        '--initial-cluster',
        cluster,
        '--initial-advertise-peer-urls',
        member.peerUrl,
      ];
      try {
        await run(tool, args, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
      } catch (err) {
        const stderr = String((err as { stderr?: string }).stderr ?? (err as Error).message)
          .trim()
          .split('\n')
          .slice(-3)
          .join(' ');
        throw new InputError(`${path}: \`${tool} snapshot restore\` refused it, so it is not a usable etcd snapshot: ${stderr}`);
      }
    },
  });
  return { endpoints: etcd.endpoints, restoredWith: `${tool} snapshot restore`, close: () => etcd.stop() };
}
