// `npm run test:unit`: the pure tests only (no etcd, no child process, no
// browser, no listening server), chosen from the sources by what they import
// or start, so a new pure test joins by itself and a new system test stays out.
import { readdirSync, readFileSync } from 'node:fs';

const SYSTEM =
  /from '(node:child_process|node:net|node:http|etcd3|playwright-core|\.\/helpers\/(system|etcd|etcd-auth|cli|browser|cluster|neutron|fake-agent-peer|emulator|tcp-proxy|history|viz-page)|\.\.\/src\/(localetcd\/[^']*|daemon\/daemon|cli\/main))'|startEmulatorServer|\.listen\(|fetch\(/;

const files = readdirSync('test')
  .filter((f) => f.endsWith('.test.ts') && !f.startsWith('bench-') && f !== 'layers.test.ts')
  .filter((f) => !SYSTEM.test(readFileSync(`test/${f}`, 'utf8')))
  .map((f) => `dist/test/${f.replace(/\.ts$/, '.js')}`);

export default {
  files,
  timeout: '1m',
  workerThreads: false,
  concurrency: 2,
  verbose: false,
};
