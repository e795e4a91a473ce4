/**
 * Which shape `spp config build` writes configuration/<host> in. neutron's
 * driver reads one shape only (the c33920f driver crashes on the final
 * object and the final driver on the array), so a host must be written in
 * the shape its neighbours already use unless the operator says otherwise.
 */
import { type ConfigFormat, FORMAT_READERS, formatOfRaw } from '../protocol/configuration';
import { parseKey } from '../protocol/keys';

export interface FormatChoice {
  readonly format: ConfigFormat;
  /** Why, in words for the operator. */
  readonly reason: string;
  /** A mix of shapes among the other hosts: some driver cannot bind there whatever we write. */
  readonly warning?: string;
}

/**
 * `explicit`: --config-format. Otherwise the other hosts' shape; with no
 * other host, this host's current shape; with none at all, the final one.
 * `configurations`: configuration/<host> key -> raw value, every host.
 */
export function chooseFormat(host: string, configurations: Readonly<Record<string, string>>, explicit?: ConfigFormat): FormatChoice {
  if (explicit) return { format: explicit, reason: `--config-format ${explicit}: read by ${FORMAT_READERS[explicit]}` };
  const byFormat: Record<ConfigFormat, string[]> = { legacy: [], final: [] };
  let own: ConfigFormat | undefined;
  for (const [key, raw] of Object.entries(configurations)) {
    const p = parseKey(key);
    const f = formatOfRaw(raw);
    if (p?.kind !== 'configuration' || f === undefined) continue;
    if (p.host === host) own = f;
    else byFormat[f].push(p.host);
  }
  const names = (hs: string[]): string => hs.sort().join(', ');
  const { legacy, final } = byFormat;
  if (legacy.length > 0 && final.length > 0) {
    return {
      format: 'final',
      reason: 'the final shape (the other hosts use both shapes)',
      warning: `hosts ${names(legacy)} use the c33920f array and hosts ${names(final)} the final object; neutron's driver reads only one, so it cannot bind on some of them`,
    };
  }
  if (legacy.length > 0)
    return { format: 'legacy', reason: `the c33920f array, as the other hosts in etcd (${names(legacy)}) use; read by ${FORMAT_READERS.legacy}` };
  if (final.length > 0)
    return { format: 'final', reason: `the final object, as the other hosts in etcd (${names(final)}) use; read by ${FORMAT_READERS.final}` };
  if (own) return { format: own, reason: `the shape this host's configuration already has; read by ${FORMAT_READERS[own]}` };
  return { format: 'final', reason: `the final object (no host in etcd yet); read by ${FORMAT_READERS.final}` };
}
