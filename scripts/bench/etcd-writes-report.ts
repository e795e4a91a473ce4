/** The figures and goals of scripts/bench/etcd-writes.ts (issue 32 item 2). */
import type { BindWrites, RestartWrites } from './etcd-writes';
import type { Report } from './report';
import { mean } from './stats';

/** After a bind's first `up`: past the default re-assert (0.25 s) with room for a loaded machine. */
export const WRITES_SETTLE_MS = 750;

export function reportBindWrites(report: Report, w: BindWrites): void {
  const binds = w.revisions.length;
  report.value(
    'etcd.bind.agent_writes',
    'writes',
    mean(w.agentWrites),
    `per bind, mean of ${binds}: revisions that are not the driver's claim, bind_port and action`,
  );
  report.value('etcd.bind.agent_bytes', 'bytes', mean(w.agentBytes), "per bind: key + value of the agent's puts");
  report.value('etcd.bind.up_puts', 'puts', Math.max(...w.upPuts), 'the most `port_status = up` puts of one bind');
  report.value(
    'etcd.bind.revisions_per_1000_binds',
    'revisions',
    mean(w.revisions) * 1000,
    "MVCC revisions of 1,000 binds (the driver's 3 per bind included, unbinds not)",
  );
  report.value(
    'etcd.bind.late_watch_missed',
    'binds',
    w.lateWatchMissed,
    `of ${binds} binds, a watch created after the action put (the original driver's) saw no up`,
  );
  report.goal(
    'a plug puts up at most twice, and the original driver late watch misses none',
    Math.max(...w.upPuts) <= 2 && w.lateWatchMissed === 0,
    `${Math.max(...w.upPuts)} up puts at most, ${w.lateWatchMissed} of ${binds} late watches missed`,
  );
}

export function reportRestartWrites(report: Report, ports: number, writes: readonly RestartWrites[]): void {
  const name = `etcd.restart.${ports}_ports`;
  const most = (f: (w: RestartWrites) => number): number => Math.max(...writes.map(f));
  report.value(
    `${name}.puts`,
    'puts',
    most((w) => w.puts),
    'the most over all restarts: every put under the protocol root (liveness key, up), the kill to 1 s after all up',
  );
  report.value(
    `${name}.put_bytes`,
    'bytes',
    most((w) => w.putBytes),
    'key + value of those puts, the most',
  );
  report.value(
    `${name}.up_puts`,
    'puts',
    most((w) => w.upPuts),
    'port_status = up puts, the most',
  );
  report.value(
    `${name}.revisions`,
    'revisions',
    most((w) => w.revisions),
    "MVCC revisions, the most (the killed agent's keys and lock going included)",
  );
  report.goal(`a restart with ${ports} ports puts each up at most once`, most((w) => w.upPuts) <= ports, `${most((w) => w.upPuts)} up puts for ${ports} ports`);
}
