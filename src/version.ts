/**
 * The package's version. package.json is the one source: `spp --version`,
 * the agent's logs, its liveness key and its host lock all show this.
 */
// A require rather than an import: tsc would copy an imported package.json into dist/.
// From dist/src/ (the only place this runs) the package root is two levels up,
// in a checkout and in an installed package alike.
export const VERSION: string = (require('../../package.json') as { version: string }).version;
