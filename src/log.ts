/**
 * winston loggers: JSON lines for machines (journald, log shippers) or a
 * pretty single-line form for people. Every record of the agent carries
 * structured fields (host, port, vhost, revision, state), never only prose.
 */
import winston from 'winston';

export type LogFormat = 'json' | 'pretty';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Where records go; default stderr, so command output on stdout stays clean. */
  readonly stream?: NodeJS.WritableStream;
  /** Fields on every record (e.g. host). */
  readonly defaultMeta?: Record<string, unknown>;
}

const pretty = winston.format.printf((info) => {
  const { level, message, timestamp, ...rest } = info as Record<string, unknown>;
  const fields = Object.entries(rest)
    .filter(([k, v]) => v !== undefined && typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${String(timestamp)} ${String(level).toUpperCase().padEnd(5)} ${String(message)}${fields ? `  ${fields}` : ''}`;
});

export function createLogger(opts: LoggerOptions = {}): winston.Logger {
  const format =
    opts.format === 'pretty'
      ? winston.format.combine(winston.format.timestamp(), pretty)
      : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level: opts.level ?? 'info',
    format,
    defaultMeta: opts.defaultMeta,
    transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
  });
}

/** A logger that drops everything (library use, tests that do not look at logs). */
export function silentLogger(): winston.Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

export type Logger = winston.Logger;
