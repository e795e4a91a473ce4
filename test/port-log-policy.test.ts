import test from 'ava';
import { portMachine } from '../machines/port';
import { leafStateTags } from '../machines/state-name';
import type { PortTag } from '../machines/tags';
import { type PortTransition, portStateLogLevel } from '../src/agent/port-log-policy';

// the tags the machine gives each state: the policy asks tags, the steps below name states
const TAGS = leafStateTags(portMachine.root) as ReadonlyMap<string, readonly PortTag[]>;
const tagsOf = (state: string): readonly PortTag[] => {
  if (state === '') return [];
  const tags = TAGS.get(state);
  if (!tags) throw new Error(`no port state ${state}`);
  return tags;
};

const step = (from: string, state: string, more: Partial<PortTransition> = {}): PortTransition => ({
  from,
  state,
  fromTags: tagsOf(from),
  tags: tagsOf(state),
  lastError: undefined,
  outcomeLogged: undefined,
  stopping: false,
  ...more,
});

/** The levels of a sequence of transitions, the memory carried from one to the next. */
function levels(steps: readonly PortTransition[]): string[] {
  let memory: string | undefined;
  return steps.map((s) => {
    const d = portStateLogLevel(s, memory);
    memory = d.lastBackoffError;
    return d.level;
  });
}

test('a plug tells its story at info; evaluating is routine', (t) => {
  t.deepEqual(levels([step('', 'evaluating'), step('evaluating', 'plugging'), step('plugging', 'plugged.reasserting')]), ['debug', 'info', 'info']);
});

test('a transition the run already logged (port is up, port unplugged) goes to debug', (t) => {
  t.is(portStateLogLevel(step('plugging', 'plugged.reasserting', { outcomeLogged: 'up' }), undefined).level, 'debug');
  t.is(portStateLogLevel(step('unplugging', 'removed', { outcomeLogged: 'unplugged' }), undefined).level, 'debug');
  t.is(portStateLogLevel(step('unplugging', 'idle', { outcomeLogged: 'unplugged' }), undefined).level, 'debug');
  t.is(portStateLogLevel(step('removed', 'idle'), undefined).level, 'debug');
  t.is(
    portStateLogLevel(step('unplugging', 'removed', { outcomeLogged: 'up' }), undefined).level,
    'info',
    'an outcome of another kind says nothing of this one',
  );
});

test('a retry loop is logged once per distinct error: warn, then debug while the error repeats', (t) => {
  const loop = (error: string): PortTransition[] => [
    step('plugging', 'backoff', { lastError: error }),
    step('backoff', 'evaluating', { lastError: error }),
    step('evaluating', 'plugging', { lastError: error }),
  ];
  t.deepEqual(levels([step('evaluating', 'plugging'), ...loop('spp-ctl down'), ...loop('spp-ctl down'), ...loop('rejected')]), [
    'info',
    'warn',
    'debug',
    'debug',
    'debug',
    'debug',
    'debug',
    'warn',
    'debug',
    'debug',
  ]);
});

test('the loop ends at a state outside it: the next plug is news again', (t) => {
  const d = portStateLogLevel(step('plugging', 'plugged.reasserting'), 'spp-ctl down');
  t.is(d.level, 'info');
  t.is(d.lastBackoffError, undefined);
  t.is(portStateLogLevel(step('evaluating', 'plugging'), d.lastBackoffError).level, 'info');
});

test('failures are errors, unless the agent is stopping', (t) => {
  t.is(portStateLogLevel(step('plugging', 'failed.reporting', { lastError: 'rejected twice' }), undefined).level, 'error');
  t.is(portStateLogLevel(step('plugging', 'failed.reporting', { lastError: 'rejected twice', stopping: true }), undefined).level, 'debug');
  t.is(portStateLogLevel(step('evaluating', 'plugging', { stopping: true }), undefined).level, 'debug');
});
