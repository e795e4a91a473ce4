/**
 * `spp config build --components FILE`: SPP_COMPONENT_CONF's yaml (top key
 * `vf`, one `components` list per NIC in mapping order, optional `mirror`),
 * or the same as JSON. Decoding only; the layout rules are checked with the
 * mappings (src/protocol/layout-rules.ts).
 */
import * as t from 'io-ts';
import { decodeValue, jsonObject } from '../protocol/codecs';
import { ComponentDecl, MirrorDecl } from '../protocol/configuration';
import type { DeclaredLayouts } from './build';
import { parseYamlSubset, YamlSubsetError } from './yaml-subset';

const ComponentFile = jsonObject(
  t.intersection([
    t.type({ vf: t.array(jsonObject(t.type({ components: t.array(ComponentDecl) }), '{"components": [...]}')) }),
    t.partial({ mirror: t.array(MirrorDecl) }),
  ]),
  '{"vf": [{"components": [...]}, ...][, "mirror": [...]]}',
);

/** Reads the file's text; `name` is used in messages. JSON when it starts with `{`, otherwise the yaml subset. */
export function readComponentFile(name: string, text: string): { ok: true; value: DeclaredLayouts } | { ok: false; error: string } {
  let parsed: unknown;
  const json = text.trimStart().startsWith('{');
  try {
    parsed = json ? JSON.parse(text) : parseYamlSubset(text);
  } catch (err) {
    const why = err instanceof YamlSubsetError || err instanceof SyntaxError ? err.message : String(err);
    return { ok: false, error: `${name}: not valid ${json ? 'JSON' : 'YAML (the subset SPP_COMPONENT_CONF files use)'}: ${why}` };
  }
  const d = decodeValue(ComponentFile, name, parsed);
  if (!d.ok) return d;
  return { ok: true, value: { vf: d.value.vf.map((v) => v.components), ...(d.value.mirror ? { mirror: d.value.mirror } : {}) } };
}
