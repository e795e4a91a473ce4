/**
 * The shadow agent (`spp replay --etcd-endpoints E --follow`): the history
 * is replayed as usual, then every later etcd transaction is fed to the same
 * host sessions as it happens, and what the agent would do is reported step
 * by step, without anything being sent anywhere.
 */
import { silentLogger } from '../log';
import { assembleReport, type HostSession, openHost } from './engine';
import type { HistoryEvent, ReplayInput } from './input';
import type { HostReport, ReplayOptions, ReplayReport, StepReport } from './report';
import { agentHosts, eventSteps, type HostStep, ownerHost, planSteps } from './steps';

export interface FollowedStep extends StepReport {
  readonly host: string;
}

export class FollowReplay {
  private readonly sessions = new Map<string, HostSession>();
  /** Hosts whose history showed an agent at work: its writes come with the events. */
  private readonly writers: Set<string>;
  private readonly hostless = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly input: Extract<ReplayInput, { kind: 'history' }>,
    private readonly options: ReplayOptions,
  ) {
    this.writers = agentHosts(input.events);
  }

  /** Replays the history (every host, or options.host) and keeps the hosts' sessions open. */
  static async start(input: Extract<ReplayInput, { kind: 'history' }>, options: ReplayOptions): Promise<FollowReplay> {
    const f = new FollowReplay(input, { ...options, traceSteps: true, logger: options.logger ?? silentLogger() });
    const plan = planSteps([input]);
    for (const [k, v] of Object.entries(plan.hostless)) f.hostless.set(k, v);
    if (options.host !== undefined && !plan.hosts.has(options.host)) plan.hosts.set(options.host, []);
    for (const host of [...plan.hosts.keys()].sort()) {
      if (options.host !== undefined && host !== options.host) continue;
      const steps = plan.hosts.get(host)!;
      const session = await f.open(host, steps);
      for (const s of steps) await session.step(s);
    }
    return f;
  }

  private async open(host: string, known: readonly HostStep[]): Promise<HostSession> {
    const session = await openHost(host, known, undefined, this.options);
    this.sessions.set(host, session);
    return session;
  }

  /** Feeds one batch of later events (in order; batches are queued); what each step caused, host by host. */
  feed(events: readonly HistoryEvent[]): Promise<FollowedStep[]> {
    const run = async (): Promise<FollowedStep[]> => {
      for (const ev of events) {
        if (ownerHost(ev.key) !== undefined) continue;
        if (ev.type === 'put') this.hostless.set(ev.key, ev.value);
        else this.hostless.delete(ev.key);
      }
      for (const h of agentHosts(events)) this.writers.add(h);
      const out: FollowedStep[] = [];
      for (const [host, steps] of eventSteps(events, this.input.source, (h) => this.writers.has(h))) {
        if (this.options.host !== undefined && host !== this.options.host) continue;
        const session = this.sessions.get(host) ?? (await this.open(host, steps));
        for (const s of steps) out.push({ host, ...(await session.step(s)) });
      }
      return out;
    };
    const next = this.queue.then(run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  report(): ReplayReport {
    const hosts: HostReport[] = [...this.sessions.values()].map((s) => s.report()).sort((a, b) => (a.host < b.host ? -1 : 1));
    return assembleReport([this.input], hosts, this.options.host === undefined ? Object.fromEntries(this.hostless) : {}, this.options);
  }

  async close(): Promise<void> {
    await this.queue;
    for (const s of this.sessions.values()) await s.close();
    this.sessions.clear();
  }
}
