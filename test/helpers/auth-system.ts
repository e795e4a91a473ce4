/**
 * A System (test/helpers/system.ts) with etcd auth on, as an operator runs
 * it: the agent logs in as the host's user holding only the role `spp etcd
 * roles --host H --apply` made, the driver as a user with the driver role,
 * and the test's own client (System.client) as root. Passwords are in files
 * of a private temp dir, never on a command line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Etcd3 } from 'etcd3';
import type { OriginalPort } from '../../src/driver/original-writes';
import { type CliRun, runCli } from './cli';
import { clientAs, enableAuth, ROOT_PASSWORD, secretFile } from './etcd-auth';
import type { System } from './system';

export const AGENT_USER = 'agent-spp4';
export const DRIVER_USER = 'neutron';
export const AGENT_PASSWORD = 'agent-spp4-Secret';
const DRIVER_PASSWORD = 'neutron-Secret';

export interface HostUsers {
  /** The environment of `spp agent` as the host's user. */
  readonly agentEnv: NodeJS.ProcessEnv;
  /** The environment of `spp port ...` as the driver's user. */
  readonly driverEnv: NodeJS.ProcessEnv;
  /** The environment of admin commands as root. */
  readonly adminEnv: NodeJS.ProcessEnv;
  /** A client logged in as the driver's user. */
  readonly driver: Etcd3;
}

/** Turns auth on, creates the host's and the driver's users with their roles, and makes s.client root's. */
export async function withHostUsers(t: ExecutionContext, s: System): Promise<HostUsers> {
  const root = await enableAuth(s.etcd);
  const open = s.client;
  s.client = root;
  open.close();
  const dir = mkdtempSync(join(tmpdir(), 'spp-host-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const adminEnv = { SPP_ETCD_ENDPOINTS: s.etcd.endpoint, SPP_ETCD_USER: 'root', SPP_ETCD_PASSWORD_FILE: secretFile(dir, 'root.pw', ROOT_PASSWORD) };
  const agentPw = secretFile(dir, 'agent.pw', AGENT_PASSWORD);
  const driverPw = secretFile(dir, 'driver.pw', DRIVER_PASSWORD);
  for (const argv of [
    ['--host', s.host, '--user', AGENT_USER, '--password-file', agentPw],
    ['--driver', '--user', DRIVER_USER, '--password-file', driverPw],
  ]) {
    const r = await runCli(['etcd', 'roles', '--apply', ...argv], adminEnv);
    if (r.code !== 0) throw new Error(`spp etcd roles --apply ${argv.join(' ')}: ${r.err}`);
  }
  const driver = clientAs(s.etcd, DRIVER_USER, DRIVER_PASSWORD);
  t.teardown(() => driver.close());
  return {
    agentEnv: { SPP_ETCD_USER: AGENT_USER, SPP_ETCD_PASSWORD_FILE: agentPw },
    driverEnv: { SPP_ETCD_ENDPOINTS: s.etcd.endpoint, SPP_ETCD_USER: DRIVER_USER, SPP_ETCD_PASSWORD_FILE: driverPw },
    adminEnv,
    driver,
  };
}

/** `spp port bind` of `p` as the driver (its environment), waiting up to `timeoutSec` for `up`. */
export function cliBind(driverEnv: NodeJS.ProcessEnv, host: string, p: OriginalPort, timeoutSec: number): Promise<CliRun> {
  const vlan = p.vlan === undefined ? [] : ['--vlan', String(p.vlan)];
  return runCli(['port', 'bind', '--host', host, '--port-id', p.portId, '--mac', p.mac, '--phys', p.phys, ...vlan, '--timeout', String(timeoutSec)], driverEnv);
}
