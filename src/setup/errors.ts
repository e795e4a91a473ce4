/** A set-up change that was refused; `problems` holds one line per reason, each naming the key. */
export class SetupRefused extends Error {
  constructor(
    readonly summary: string,
    readonly problems: readonly string[],
  ) {
    super(`${summary}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SetupRefused';
  }
}

/** Guards kept failing: other writers changed the keys on every attempt. */
export class SetupConflict extends Error {
  constructor(what: string, attempts: number) {
    super(`${what}: the keys kept changing during ${attempts} attempts; try again`);
    this.name = 'SetupConflict';
  }
}
