/**
 * The replay tool's inputs, recognised by content: `etcdctl get --prefix`
 * text (key line, value line), `etcdctl get --prefix -w json`, and the
 * agent's `--record` JSON-lines event log. Every problem names the file and
 * the line.
 */
import { readFile } from 'node:fs/promises';
import type { RecordEntry } from '../daemon/recorder';
import type { ListWatchEvent } from '../etcd/listwatch';

export interface SnapshotKv {
  readonly key: string;
  readonly value: string;
  /** etcd's mod_revision when the input has one (JSON form). */
  readonly modRevision?: number;
}

export type ReplayInput =
  | {
      readonly kind: 'snapshot';
      readonly source: string;
      readonly format: 'etcdctl-text' | 'etcdctl-json';
      /** header.revision of a JSON snapshot; text snapshots have none. */
      readonly revision?: number;
      readonly kvs: readonly SnapshotKv[];
    }
  | { readonly kind: 'events'; readonly source: string; readonly format: 'event-log'; readonly entries: readonly RecordEntry[] }
  | {
      /** etcd's own revision history (a live cluster's watch, or a backup served by a temporary etcd). */
      readonly kind: 'history';
      readonly source: string;
      readonly format: 'etcd-history' | 'etcd-snapshot-file';
      /** The keys as of this revision start the replay (0: none, a fresh etcd). */
      readonly listRevision: number;
      readonly kvs: readonly SnapshotKv[];
      /** Every change after listRevision, in revision order. */
      readonly events: readonly HistoryEvent[];
    };

/** One key change of etcd's history. */
export type HistoryEvent =
  | { readonly type: 'put'; readonly key: string; readonly value: string; readonly revision: number }
  | { readonly type: 'delete'; readonly key: string; readonly revision: number };

/** Keys of a snapshot, entries of an event log, listed keys and events of a history. */
export function inputSize(i: ReplayInput): number {
  return i.kind === 'snapshot' ? i.kvs.length : i.kind === 'events' ? i.entries.length : i.kvs.length + i.events.length;
}

/** Input that cannot be read: the CLI exits 2 with this message. */
export class InputError extends Error {}

export async function readInput(path: string): Promise<ReplayInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  return parseInput(text, path);
}

/** Detects the format from the first non-blank line and parses the whole text. */
export function parseInput(text: string, source: string): ReplayInput {
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (first === undefined) return { kind: 'snapshot', source, format: 'etcdctl-text', kvs: [] };
  if (first.trimStart().startsWith('{')) {
    const whole = tryJson(text);
    if (isObject(whole) && 'header' in whole) return parseEtcdctlJson(whole, source);
    if (whole === undefined && /^\s*\{\s*"header"/.test(text)) {
      try {
        JSON.parse(text);
      } catch (err) {
        throw new InputError(`${source}:1: not valid etcdctl -w json output (truncated?): ${(err as Error).message}`);
      }
    }
    return parseEventLog(text, source);
  }
  return parseEtcdctlText(text, source);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

function parseEtcdctlText(text: string, source: string): ReplayInput {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const kvs: SnapshotKv[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const key = lines[i]!.replace(/\r$/, '');
    if (!key.startsWith('/')) {
      throw new InputError(`${source}:${i + 1}: expected a key line starting with '/' (etcdctl get --prefix output), got ${JSON.stringify(key.slice(0, 80))}`);
    }
    if (i + 1 >= lines.length) throw new InputError(`${source}:${i + 1}: key ${key} has no value line (truncated file?)`);
    kvs.push({ key, value: lines[i + 1]!.replace(/\r$/, '') });
  }
  return { kind: 'snapshot', source, format: 'etcdctl-text', kvs };
}

function base64(u: unknown, where: string): string {
  if (typeof u !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(u))
    throw new InputError(`${where}: expected a base64 string, got ${JSON.stringify(u)?.slice(0, 60)}`);
  return Buffer.from(u, 'base64').toString('utf8');
}

function revisionOf(u: unknown, where: string): number {
  const n = typeof u === 'string' && /^\d+$/.test(u) ? Number(u) : u;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new InputError(`${where}: expected a revision number, got ${JSON.stringify(u)}`);
  return n;
}

function parseEtcdctlJson(doc: Record<string, unknown>, source: string): ReplayInput {
  const header = doc.header;
  if (!isObject(header)) throw new InputError(`${source}:1: field header: expected an object (etcdctl -w json output)`);
  const revision = revisionOf(header.revision, `${source}:1: field header.revision`);
  const raw = doc.kvs ?? [];
  if (!Array.isArray(raw)) throw new InputError(`${source}:1: field kvs: expected an array`);
  const kvs = raw.map((kv: unknown, i): SnapshotKv => {
    const where = `${source}:1: kvs[${i}]`;
    if (!isObject(kv)) throw new InputError(`${where}: expected an object`);
    return {
      key: base64(kv.key, `${where}.key`),
      // etcdctl omits the value field of an empty value
      value: kv.value === undefined ? '' : base64(kv.value, `${where}.value`),
      modRevision: revisionOf(kv.mod_revision ?? revision, `${where}.mod_revision`),
    };
  });
  return { kind: 'snapshot', source, format: 'etcdctl-json', revision, kvs };
}

function parseEventLog(text: string, source: string): ReplayInput {
  const entries: RecordEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source}:${i + 1}`;
    const entry = tryJson(line);
    if (!isObject(entry)) throw new InputError(`${where}: not a JSON object (expected an agent --record event log line)`);
    entries.push(checkEntry(entry, where));
  });
  return { kind: 'events', source, format: 'event-log', entries };
}

function str(o: Record<string, unknown>, field: string, where: string): string {
  const v = o[field];
  if (typeof v !== 'string') throw new InputError(`${where}: field ${field}: expected a string, got ${JSON.stringify(v)?.slice(0, 60)}`);
  return v;
}

/** Checks the fields the replay uses; the rest of an entry is kept as recorded. */
function checkEntry(e: Record<string, unknown>, where: string): RecordEntry {
  switch (e.kind) {
    case 'start':
      str(e, 'host', where);
      return e as unknown as RecordEntry;
    case 'sppctl':
      str(e, 'method', where);
      str(e, 'path', where);
      return e as unknown as RecordEntry;
    case 'command':
      if (!isObject(e.command)) throw new InputError(`${where}: field command: expected an object`);
      return e as unknown as RecordEntry;
    case 'etcd':
      checkEvent(e.event, `${where}: field event`);
      return e as unknown as RecordEntry;
    default:
      throw new InputError(`${where}: field kind: expected start, etcd, sppctl or command, got ${JSON.stringify(e.kind)}`);
  }
}

function checkEvent(ev: unknown, where: string): asserts ev is ListWatchEvent {
  if (!isObject(ev)) throw new InputError(`${where}: expected an object`);
  switch (ev.type) {
    case 'connection':
      return;
    case 'reset': {
      revisionOf(ev.revision, `${where}.revision`);
      const entries = ev.entries;
      if (!Array.isArray(entries)) throw new InputError(`${where}.entries: expected an array`);
      entries.forEach((x: unknown, i) => {
        const ok = Array.isArray(x) && typeof x[0] === 'string' && isObject(x[1]) && typeof x[1].value === 'string';
        if (!ok) throw new InputError(`${where}.entries[${i}]: expected [key, {value, modRevision}]`);
      });
      return;
    }
    case 'put':
    case 'delete':
      if (ev.type === 'put' && typeof ev.value !== 'string') throw new InputError(`${where}.value: expected a string`);
      if (typeof ev.key !== 'string') throw new InputError(`${where}.key: expected a string`);
      revisionOf(ev.revision, `${where}.revision`);
      return;
    default:
      throw new InputError(`${where}.type: expected reset, put, delete or connection, got ${JSON.stringify(ev.type)}`);
  }
}
