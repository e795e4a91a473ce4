/**
 * `--record FILE`: every etcd event and every spp-ctl exchange the agent saw,
 * as JSON lines, so the replay tool can run them again and compare.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { ListWatchEvent } from '../etcd/listwatch';
import { type ExchangeOutcome, SppCtlError } from '../sppctl/client';
import type { HttpRequest, SppCommand } from '../sppctl/commands';

export type RecordEntry =
  /** unplugResetsVlan: the agent's --unplug-resets-vlan, which the replay follows (absent in older logs: false). */
  | { readonly kind: 'start'; readonly at: string; readonly host: string; readonly version: string; readonly unplugResetsVlan?: boolean }
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

/** The spp-ctl client's `onExchange` hook that records every exchange. */
export function recordExchanges(recorder: Recorder): (req: HttpRequest, outcome: ExchangeOutcome, ms: number) => void {
  return (req, outcome, ms) =>
    recorder.write({
      kind: 'sppctl',
      at: new Date().toISOString(),
      method: req.method,
      path: req.path,
      ...(req.body !== undefined ? { body: req.body } : {}),
      ...(outcome instanceof SppCtlError
        ? { ...(outcome.status !== undefined ? { status: outcome.status } : {}), error: outcome.message }
        : { status: outcome.status, response: outcome.body }),
      ms,
    });
}
