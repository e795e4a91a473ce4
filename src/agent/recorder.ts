/**
 * `--record FILE`: every etcd event and every spp-ctl exchange the agent saw,
 * as JSON lines, so the replay tool can run them again and compare.
 */
import { createWriteStream, WriteStream } from 'node:fs';
import type { ListWatchEvent } from '../etcd/listwatch';
import type { SppCommand } from '../sppctl/commands';

export type RecordEntry =
  | { readonly kind: 'start'; readonly at: string; readonly host: string; readonly version: string }
  | { readonly kind: 'etcd'; readonly at: string; readonly event: ListWatchEvent }
  | {
      readonly kind: 'sppctl';
      readonly at: string;
      readonly method: string;
      readonly path: string;
      readonly body?: unknown;
      readonly status?: number;
      readonly response?: string;
      readonly error?: string;
      readonly ms: number;
    }
  | { readonly kind: 'command'; readonly at: string; readonly command: SppCommand };

export class Recorder {
  private readonly out: WriteStream;
  constructor(path: string) {
    this.out = createWriteStream(path, { flags: 'a' });
  }
  write(entry: RecordEntry): void {
    this.out.write(`${JSON.stringify(entry)}\n`);
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.out.end(resolve));
  }
}
