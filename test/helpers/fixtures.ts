import { join } from 'node:path';

/** `test/fixtures/` of this repository (tests run from `dist/test/`). */
export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures');
