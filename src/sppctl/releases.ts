/**
 * What an agent can see of each SPP release from 18.08 to 19.11
 * (upstream-final.md section 3), as data: the emulator models a release
 * from its row, the agent's release beliefs and `spp config build` read the
 * same rows. Pure; no I/O.
 */

export const SPP_RELEASES = ['18.08', '18.08.1', '18.08.2', '18.08.3', '18.08.4', '19.08', '19.11'] as const;
export type SppRelease = (typeof SPP_RELEASES)[number];
export const DEFAULT_SPP_RELEASE: SppRelease = '18.08';

/** The classifier's component type: renamed in 18.08.4 (spp 2c1470f, 9b63754). */
export type ClassifierType = 'classifier_mac' | 'classifier';
export const CLASSIFIER_TYPES: readonly ClassifierType[] = ['classifier_mac', 'classifier'];

/** spp_vf's error texts before (bad-value) and from 18.08.3 on (invalid-value, spp b81dbd6). */
export type ErrorStyle = 'bad-value' | 'invalid-value';

export interface ReleaseBehaviour {
  readonly classifierType: ClassifierType;
  /** Components of different types may share a core, and a classifier no longer hangs a shared core (#4). */
  readonly mixedCoreTypes: boolean;
  /** spp_vf's main-loop sleep: 1 s, then usleep(100) (#6). */
  readonly mainLoopMs: number;
  /** `master-lcore` in the status (#2). */
  readonly masterLcore: boolean;
  readonly errorStyle: ErrorStyle;
  /** `DELETE /v1/vfs/{id}` ends the vf (#7). */
  readonly deleteVf: boolean;
  /** `GET /v1/processes` sends `status` to every vf and drops those that fail (#8). */
  readonly processesProbe: boolean;
  /** spp-ctl fails on a reply of 4096 bytes or more (fixed in 19.11, #9). */
  readonly statusLimit: boolean;
  /** A malformed JSON body gives 400 `Not in json format.` instead of 500 (#10). */
  readonly jsonError400: boolean;
  /** `classifier_table` accepts `mac_address: "default"` (#5). */
  readonly defaultMac: boolean;
}

const V18_08: ReleaseBehaviour = {
  classifierType: 'classifier_mac',
  mixedCoreTypes: false,
  mainLoopMs: 1000,
  masterLcore: false,
  errorStyle: 'bad-value',
  deleteVf: false,
  processesProbe: false,
  statusLimit: true,
  jsonError400: false,
  defaultMac: false,
};
const V18_08_2: ReleaseBehaviour = { ...V18_08, mixedCoreTypes: true, mainLoopMs: 0, defaultMac: true };
const V18_08_3: ReleaseBehaviour = { ...V18_08_2, masterLcore: true, errorStyle: 'invalid-value', processesProbe: true };
const V18_08_4: ReleaseBehaviour = { ...V18_08_3, classifierType: 'classifier', deleteVf: true };

export const RELEASE_BEHAVIOUR: Readonly<Record<SppRelease, ReleaseBehaviour>> = {
  '18.08': V18_08,
  '18.08.1': V18_08,
  '18.08.2': V18_08_2,
  '18.08.3': V18_08_3,
  '18.08.4': V18_08_4,
  '19.08': V18_08_4,
  '19.11': { ...V18_08_4, statusLimit: false, jsonError400: true },
};

export function isSppRelease(text: string): text is SppRelease {
  return (SPP_RELEASES as readonly string[]).includes(text);
}

export function behaviourOf(release: SppRelease = DEFAULT_SPP_RELEASE): ReleaseBehaviour {
  return RELEASE_BEHAVIOUR[release];
}

export function isClassifierType(type: string): type is ClassifierType {
  return type === 'classifier_mac' || type === 'classifier';
}

export function otherClassifierType(type: ClassifierType): ClassifierType {
  return type === 'classifier' ? 'classifier_mac' : 'classifier';
}

/** spp_vf's error message texts of one style (spp-ctl passes them on as `command error: <text>`). */
export const ERROR_TEXTS: Readonly<Record<ErrorStyle, { badValue: (param: string) => string; badFormat: string }>> = {
  'bad-value': { badValue: (p) => `bad value(${p})`, badFormat: 'bad message format' },
  'invalid-value': { badValue: (p) => `Invalid value (${p})`, badFormat: 'Wrong message format' },
};

/** What an spp_vf error text says, in either style; undefined for a text of neither. */
export type SppVfError =
  | { readonly kind: 'bad-value'; readonly param: string; readonly style: ErrorStyle }
  | { readonly kind: 'bad-format'; readonly style: ErrorStyle }
  | { readonly kind: 'unknown-command'; readonly style: ErrorStyle }
  | { readonly kind: 'not-enough-params'; readonly style: ErrorStyle }
  | { readonly kind: 'error-occur' };

/** Reads an spp_vf error message (with or without spp-ctl's `command error: ` prefix) of either release style. */
export function parseSppVfError(text: string): SppVfError | undefined {
  const msg = text.trim().replace(/^command error: /, '');
  let m = /^bad value\((.*)\)$/.exec(msg);
  if (m) return { kind: 'bad-value', param: m[1]!, style: 'bad-value' };
  m = /^Invalid value \((.*)\)$/.exec(msg);
  if (m) return { kind: 'bad-value', param: m[1]!, style: 'invalid-value' };
  if (msg === 'bad message format') return { kind: 'bad-format', style: 'bad-value' };
  if (msg === 'Wrong message format') return { kind: 'bad-format', style: 'invalid-value' };
  if (/^unknown command\(/.test(msg)) return { kind: 'unknown-command', style: 'bad-value' };
  if (/^Unknown command\(/.test(msg)) return { kind: 'unknown-command', style: 'invalid-value' };
  if (msg === 'not enough parameter') return { kind: 'not-enough-params', style: 'bad-value' };
  if (/^No or insufficient number of params/.test(msg)) return { kind: 'not-enough-params', style: 'invalid-value' };
  if (msg === 'error occur') return { kind: 'error-occur' };
  return undefined;
}

/**
 * The release families an agent can tell apart by what it sees, oldest first:
 * no `master-lcore` (up to 18.08.2), `master-lcore` with `classifier_mac`
 * (18.08.3), the type `classifier` (18.08.4 and later).
 */
export type ReleaseFamily = 'unknown' | '<=18.08.2' | '<=18.08.3' | '18.08.3' | '>=18.08.3' | '>=18.08.4';

export const RELEASE_FAMILIES: readonly ReleaseFamily[] = ['unknown', '<=18.08.2', '<=18.08.3', '18.08.3', '>=18.08.3', '>=18.08.4'];

/** The releases of a family. */
export function releasesOf(family: ReleaseFamily): SppRelease[] {
  switch (family) {
    case 'unknown':
      return [...SPP_RELEASES];
    case '<=18.08.2':
      return SPP_RELEASES.filter((r) => !RELEASE_BEHAVIOUR[r].masterLcore);
    case '<=18.08.3':
      return SPP_RELEASES.filter((r) => RELEASE_BEHAVIOUR[r].classifierType === 'classifier_mac');
    case '18.08.3':
      return ['18.08.3'];
    case '>=18.08.3':
      return SPP_RELEASES.filter((r) => RELEASE_BEHAVIOUR[r].masterLcore);
    case '>=18.08.4':
      return SPP_RELEASES.filter((r) => RELEASE_BEHAVIOUR[r].classifierType === 'classifier');
  }
}

/**
 * What one vf's status says of its release: `master-lcore` present or not,
 * and the spelling of a running classifier. Undefined where it says nothing.
 */
export function familyFromStatus(status: { readonly components: readonly { readonly type: string }[] } & object): {
  family: ReleaseFamily;
  classifierType?: ClassifierType;
  reason: string;
} {
  const hasMaster = 'master-lcore' in status;
  const cls = status.components.find((c) => isClassifierType(c.type))?.type as ClassifierType | undefined;
  if (cls === 'classifier') return { family: '>=18.08.4', classifierType: cls, reason: 'the status shows a component of type classifier' };
  if (cls === 'classifier_mac' && hasMaster)
    return { family: '18.08.3', classifierType: cls, reason: 'the status has master-lcore and a component of type classifier_mac' };
  if (!hasMaster)
    return {
      family: '<=18.08.2',
      classifierType: 'classifier_mac',
      reason: cls ? 'the status has no master-lcore and a component of type classifier_mac' : 'the status has no master-lcore',
    };
  return { family: '>=18.08.3', reason: 'the status has master-lcore and no classifier yet' };
}

/**
 * A release whose emulated spp_vf can be set up to look like every one of
 * `statuses` (the replay seeds its vfs from recorded statuses): the
 * spelling of their classifiers, mixed types on a core, master-lcore.
 */
export function releaseForStatuses(
  statuses: Iterable<{ readonly components: readonly { readonly type: string; readonly core: number }[] } & object>,
): SppRelease {
  let release: SppRelease = DEFAULT_SPP_RELEASE;
  const later = (r: SppRelease): void => {
    if (SPP_RELEASES.indexOf(r) > SPP_RELEASES.indexOf(release)) release = r;
  };
  for (const status of statuses) {
    const family = familyFromStatus(status).family;
    if (family === '>=18.08.4') later('19.11');
    else if (family === '18.08.3' || family === '>=18.08.3') later('18.08.3');
    const typesOfCore = new Map<number, Set<string>>();
    for (const c of status.components) typesOfCore.set(c.core, (typesOfCore.get(c.core) ?? new Set()).add(c.type));
    if ([...typesOfCore.values()].some((types) => types.size > 1)) later('18.08.2');
  }
  return release;
}
