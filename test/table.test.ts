import test from 'ava';
import { renderFields, renderList, renderTable } from '../src/setup/table';

test('tables pad columns to the widest cell and leave no trailing spaces', (t) => {
  t.is(
    renderTable(
      ['A', 'LONG HEADER', 'C'],
      [
        ['xyz', '1', ''],
        ['q', '22', 'end'],
      ],
      { indent: '  ' },
    ),
    '  A    LONG HEADER  C\n  xyz  1\n  q    22           end\n',
  );
});

test('an empty table prints its placeholder, or only the header', (t) => {
  t.is(renderTable(['A'], [], { empty: '(none)', indent: ' ' }), ' (none)\n');
  t.is(renderTable(['A', 'B'], []), 'A  B\n');
});

test('fields align their values; lists print nothing when empty', (t) => {
  t.is(
    renderFields([
      ['host', 'spp4'],
      ['configuration', 'k'],
    ]),
    'host:          spp4\nconfiguration: k\n',
  );
  t.is(renderList('problems:', []), '');
  t.is(renderList('problems:', ['a', 'b'], '  '), '  problems:\n    - a\n    - b\n');
});
