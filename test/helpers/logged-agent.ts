/** An in-process agent whose log records are kept, parsed, for tests of what it says (logs, /readyz, the page). */
import { Writable } from 'node:stream';
import type { ExecutionContext } from 'ava';
import { type AgentUiHandle, startAgentWithUi } from '../../src/cli/commands/agent-ui';
import { type RawSettings, resolveSettings } from '../../src/daemon/settings';
import { createLogger } from '../../src/log';
import { httpTransport, SppCtlClient } from '../../src/sppctl/client';

export interface LoggedAgent {
  readonly agent: AgentUiHandle;
  readonly logs: Array<Record<string, unknown>>;
  /** /readyz of its ops endpoint. */
  readyz(): Promise<{ status: number; body: string }>;
  /** The live page's data (/api/view of its visualizer). */
  page(): Promise<Record<string, unknown>>;
}

export async function startLoggedAgent(t: ExecutionContext, raw: RawSettings): Promise<LoggedAgent> {
  const logs: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const settings = resolveSettings({ sppCtl: 'http://127.0.0.1:9', logLevel: 'debug', ops: '127.0.0.1:0', ui: '127.0.0.1:0', ...raw });
  const agent = startAgentWithUi(settings, {
    logger: createLogger({ level: 'debug', format: 'json', stream }),
    sppctl: new SppCtlClient(httpTransport(settings.sppCtlUrl, { timeoutMs: 500 })),
  });
  t.teardown(() => agent.stop());
  const ops = (await agent.ops)!.url;
  const viz = (await agent.viz)!.url;
  return {
    agent,
    logs,
    readyz: async () => {
      const res = await fetch(`${ops}/readyz`);
      return { status: res.status, body: await res.text() };
    },
    page: async () => (await (await fetch(new URL('api/view', viz))).json()) as Record<string, unknown>,
  };
}
