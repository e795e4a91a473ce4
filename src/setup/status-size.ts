/**
 * How big a NIC's spp_vf status can get, measured the way the emulator
 * renders it: the NIC's layout is built in an emulated spp_vf of the release
 * and every vhost plugged with the longest entry the agent makes (a VLAN
 * entry with a 4-digit id), by the planner's own commands; the size is that
 * of spp_vf's raw `status` reply, which spp-ctl reads with one recv(4096).
 * Until 19.08 a reply of 4096 bytes or more cannot be read (HTTP 500, and
 * from 18.08.3 GET /v1/processes drops the vf), so set-up refuses or warns.
 */
import { emptyStatus } from '../plan/observed';
import { planLayout, planVhost } from '../plan/planner';
import type { ConfigFormat, HostConfiguration } from '../protocol/configuration';
import { hostLayout, type NicLayout } from '../protocol/layout';
import { describeCommand, type SppCommand } from '../sppctl/commands';
import { SppVf } from '../sppctl/emulator/vf';
import { behaviourOf, RELEASE_BEHAVIOUR, SPP_RELEASES, type SppRelease } from '../sppctl/releases';

/** spp-ctl's MSG_SIZE (src/sppctl/emulator/restapi.ts RECV_SIZE). */
const RECV_SIZE = 4096;
/**
 * The longest classifier entry the agent makes: any MAC prints as 17
 * characters, a VLAN id has up to 4 digits. One MAC per vhost: spp_vf lists
 * a MAC once per VLAN.
 */
const worstPlug = (vhostId: number) => ({
  mac: `fa:16:3e:ff:${((vhostId >> 8) & 0xff).toString(16).padStart(2, '0')}:${(vhostId & 0xff).toString(16).padStart(2, '0')}`,
  vlan: 4094,
});

export interface StatusSize {
  readonly secId: number;
  readonly pci: string;
  /** Bytes of spp_vf's status reply with the layout built and every vhost plugged. */
  readonly bytes: number;
}

/** The command text spp_vf gets for `cmd`, with the classifier spelled as the release wants. */
function commandText(cmd: SppCommand, release: SppRelease): string {
  const text = describeCommand(cmd).replace(/^vf [0-9]+: /, '');
  if (cmd.op !== 'component_start' || (cmd.type !== 'classifier_mac' && cmd.type !== 'classifier')) return text;
  return text.replace(/ classifier(_mac)?$/, ` ${behaviourOf(release).classifierType}`);
}

/** The status bytes of one NIC's spp_vf, fully plugged, on `release`. */
export function nicStatusBytes(nic: NicLayout, phyPorts: number, rings: number, release: SppRelease): number {
  const vf = new SppVf({ secId: nic.secId, lcores: [nic.masterCore, ...nic.components.map((c) => c.core)], phyPorts, rings, release, lenient: true });
  const run = (cmds: readonly SppCommand[]): void => {
    for (const cmd of cmds) {
      const reply = vf.reply(commandText(cmd, release));
      if (!reply?.includes('"success"')) throw new Error(`status size of NIC ${nic.index}: ${describeCommand(cmd)} failed in the emulated spp_vf: ${reply}`);
    }
  };
  const workers = [...new Set(nic.components.map((c) => c.core))];
  run(planLayout(nic, emptyStatus(nic.secId, workers)));
  for (const v of nic.vhostIds) run(planVhost(nic, v, worstPlug(v), vf.status()));
  return Buffer.byteLength(vf.reply('status') ?? '', 'utf8');
}

export function hostStatusSizes(config: HostConfiguration, release: SppRelease, format: ConfigFormat = 'legacy'): StatusSize[] {
  const rings = 2 * config.reduce((n, nic) => n + nic.num_vhost, 0);
  return hostLayout(config, format).map((nic) => ({ secId: nic.secId, pci: nic.nic.pci_address, bytes: nicStatusBytes(nic, config.length, rings, release) }));
}

/** The releases whose spp-ctl cannot read a status of 4096 bytes or more. */
export const LIMITED_RELEASES: readonly SppRelease[] = SPP_RELEASES.filter((r) => RELEASE_BEHAVIOUR[r].statusLimit);

/**
 * Errors (a known release that cannot return the status) and warnings (an
 * unknown release: some could not), each naming the NIC and the release.
 */
export function checkStatusSize(
  config: HostConfiguration,
  release: SppRelease | undefined,
  format: ConfigFormat = 'legacy',
): { errors: string[]; warnings: string[] } {
  const errors: string[] = [];
  const warnings: string[] = [];
  if (release !== undefined && !behaviourOf(release).statusLimit) return { errors, warnings };
  // releases differ in the classifier's spelling and master-lcore: an unknown one is the largest of those limited.
  // A layout a release cannot build (a declared layout that breaks the rules, mixed types before 18.08.2) is
  // reported by the layout's own validation, not here: that release is left out of the measure.
  const sizes = (release ? [release] : LIMITED_RELEASES).flatMap((r) => {
    try {
      return [hostStatusSizes(config, r, format)];
    } catch {
      return [];
    }
  });
  if (sizes.length === 0) return { errors, warnings };
  for (const [i, s] of sizes[0]!.entries()) {
    const bytes = Math.max(...sizes.map((perRelease) => perRelease[i]!.bytes));
    if (bytes < RECV_SIZE) continue;
    const what =
      `NIC ${s.secId - 1} (${s.pci}): the status of its spp_vf with every vhost plugged is ${bytes} bytes; ` +
      `spp-ctl cannot return a status of ${RECV_SIZE} bytes or more`;
    if (release !== undefined) {
      errors.push(
        `${what} on SPP ${release} (HTTP 500${behaviourOf(release).processesProbe ? ', and GET /v1/processes drops the vf' : ''}): ` +
          'configure fewer vhosts on this NIC, or use SPP 19.11',
      );
    } else {
      warnings.push(
        `${what} on SPP ${LIMITED_RELEASES[0]} to ${LIMITED_RELEASES[LIMITED_RELEASES.length - 1]} (fixed in 19.11); give --spp-version to check for one release`,
      );
    }
  }
  return { errors, warnings };
}
