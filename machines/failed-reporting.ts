/**
 * The `failed` group's inner states, shared by the port and tap flow
 * machines: report the error through the `reportError` actor, retry the
 * report with the machine's `backoff` delay until it is written, then rest.
 * Each machine gives the report's input; the counting of attempts is the
 * machine's own `countAttempt` and `resetAttempts` actions, so that the
 * shape stays plain data the machine's `setup` types.
 */
export function failedReporting<TArgs, TInput>(input: (args: TArgs) => TInput) {
  return {
    reporting: {
      tags: 'busy',
      invoke: { src: 'reportError', input, onDone: 'reported', onError: { target: 'reportRetry', actions: 'countAttempt' } },
    },
    reportRetry: { after: { backoff: 'reporting' } },
    reported: { entry: 'resetAttempts' },
  } as const;
}
