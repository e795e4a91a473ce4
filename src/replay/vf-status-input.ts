/**
 * The observed side of a replay: spp-ctl vf statuses (`GET /v1/vfs/<id>`
 * output) read from files, and the commands that bring an empty emulated
 * spp_vf into such a state before the agent runs.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isLeft } from 'fp-ts/lib/Either';
import { ruleOfEntry } from '../plan/observed';
import { describeDecodeErrors } from '../sppctl/client';
import type { SppCommand } from '../sppctl/commands';
import { isRunning, type PortVlanBody, VfStatus, type VlanSetting } from '../sppctl/wire';
import { InputError } from './input';

/** Decodes one status document, naming the file and the field that is wrong. */
export function decodeVfStatus(text: string, source: string): VfStatus {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: not JSON (expected GET /v1/vfs/<id> output): ${(err as Error).message}`);
  }
  const decoded = VfStatus.decode(data);
  if (isLeft(decoded)) throw new InputError(`${source}: not a vf status: ${describeDecodeErrors(decoded.left)}`);
  return decoded.right;
}

/** One status file, or a directory of `<id>.json` files; vf id -> status. */
export async function readObserved(path: string): Promise<Map<number, VfStatus>> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InputError(`${path}: cannot read: ${(err as Error).message}`);
  }
  const out = new Map<number, VfStatus>();
  const files = info.isDirectory()
    ? (await readdir(path))
        .filter((f) => /^\d+\.json$/.test(f))
        .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new InputError(`${path}: no <id>.json vf status files in this directory`);
  for (const file of files) {
    const status = decodeVfStatus(await readFile(file, 'utf8'), file);
    const named = /(\d+)\.json$/.exec(file);
    if (info.isDirectory() && named && Number(named[1]) !== status['client-id']) {
      throw new InputError(`${file}: field client-id is ${status['client-id']}, but the file name says vf ${named[1]}`);
    }
    if (out.has(status['client-id'])) throw new InputError(`${file}: a second status for vf ${status['client-id']}`);
    out.set(status['client-id'], status);
  }
  return out;
}

function vlanBody(v: VlanSetting): Exclude<PortVlanBody, { operation: 'none' }> | undefined {
  if (v.operation === 'add') return { operation: 'add', id: v.id, pcp: v.pcp };
  if (v.operation === 'del') return { operation: 'del' };
  return undefined;
}

/**
 * The commands that make an empty vf look like `status`: every component,
 * then every port attachment (with its VLAN operation), then the classifier
 * entries. `default` classifier entries have no command form and are skipped.
 */
export function commandsForStatus(status: VfStatus): SppCommand[] {
  const secId = status['client-id'];
  const starts: SppCommand[] = [];
  const attaches: SppCommand[] = [];
  for (const c of status.components) {
    if (!isRunning(c)) continue;
    starts.push({ op: 'component_start', secId, name: c.name, core: c.core, type: c.type });
    for (const [dir, list] of [
      ['rx', c.rx_port],
      ['tx', c.tx_port],
    ] as const) {
      for (const p of list) {
        const vlan = vlanBody(p.vlan);
        attaches.push({ op: 'port_attach', secId, component: c.name, port: p.port, dir, ...(vlan ? { vlan } : {}) });
      }
    }
  }
  const table: SppCommand[] = status.classifier_table.flatMap((e): SppCommand[] => {
    const rule = ruleOfEntry(e);
    if (!rule) return [];
    return [{ op: 'classifier_add', secId, mac: rule.mac, port: e.port, ...(rule.vlan !== undefined ? { vlan: rule.vlan } : {}) }];
  });
  return [...starts, ...attaches, ...table];
}
