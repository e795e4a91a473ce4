/**
 * `node dist/scripts/bench-layouts.js [runs]`: only the layouts figures of
 * the bench (scripts/bench/layouts.ts), for a quick check of that goal.
 */
import { BenchEnv } from './bench/harness';
import { benchLayouts } from './bench/layouts';
import { Report } from './bench/report';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const env = await BenchEnv.start();
  const report = new Report();
  try {
    await benchLayouts(env, report, { flat: runs, vlan: Math.max(1, Math.floor(runs / 2)) });
  } finally {
    await env.close();
  }
  process.stdout.write(report.render());
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-layouts: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
