#!/usr/bin/env node

// The CLI is written in TypeScript and compiled into dist/ by `npm run build`
// in a checkout (and by `npm pack`, whose tarball carries dist/: an install
// from it compiles nothing).
let main;
try {
  ({ main } = require('../dist/src/cli/main.js'));
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND') {
    process.stderr.write(`spp: dist/ is missing; run \`npm run build\` in ${require('node:path').resolve(__dirname, '..')}\n`);
    process.exit(2);
  }
  throw err;
}
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`spp: ${err?.stack || err}\n`);
    process.exitCode = 1;
  },
);
