/**
 * winston loggers: JSON lines for machines (journald, log shippers) or a
 * pretty single-line form for people. Every record of the agent carries
 * structured fields (host, port, vhost, revision, state), never only prose.
 */
import winston from 'winston';
import { printable } from './protocol/printable';

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
  // one line for people at a terminal: a key or value from etcd must not move the cursor or start a forged line
  return printable(`${String(timestamp)} ${String(level).toUpperCase().padEnd(5)} ${String(message)}${fields ? `  ${fields}` : ''}`);
});

/** Where winston keeps the formatted line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** What JSON.stringify leaves raw and a terminal may act on (DEL, C1) or break a line at (U+2028/9). */
const JSON_RAW_CONTROLS = /[\u007f-\u009f\u2028\u2029]/g;

/** The JSON line with those written as \u escapes: the same JSON value, safe on a terminal (journalctl -o cat). */
const terminalSafeJson = winston.format((info) => {
  const line = (info as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string' && /[\u007f-\u009f\u2028\u2029]/.test(line)) {
    (info as Record<symbol, unknown>)[MESSAGE] = line.replace(JSON_RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  return info;
});

/**
 * winston runs the logger's format (timestamp, JSON) on every record and
 * only then lets each transport drop the records below its level: a debug
 * record at --log-level info cost as much as a written one. This checks the
 * level first, by the same rule (isLevelEnabled: the logger's and its
 * transports' levels), so a dropped record costs a comparison. Child loggers
 * inherit the check (they are prototype children of the root).
 */
function skipDisabled(logger: winston.Logger): winston.Logger {
  type Method = (this: winston.Logger, ...args: unknown[]) => winston.Logger;
  const target = logger as unknown as Record<string, Method>;
  for (const level of Object.keys(logger.levels)) {
    const write = target[level];
    if (typeof write !== 'function') continue;
    target[level] = function (this: winston.Logger, ...args: unknown[]) {
      if (this.silent || !this.isLevelEnabled(level)) return this;
      return write.apply(this, args);
    };
  }
  const log = target.log!;
  target.log = function (this: winston.Logger, ...args: unknown[]) {
    const level = args[0];
    if (typeof level === 'string' && (this.silent || !this.isLevelEnabled(level))) return this;
    return log.apply(this, args);
  };
  return logger;
}

export function createLogger(opts: LoggerOptions = {}): winston.Logger {
  const format =
    opts.format === 'pretty'
      ? winston.format.combine(winston.format.timestamp(), pretty)
      : winston.format.combine(winston.format.timestamp(), winston.format.json(), terminalSafeJson());
  return skipDisabled(
    winston.createLogger({
      level: opts.level ?? 'info',
      format,
      defaultMeta: opts.defaultMeta,
      transports: [new winston.transports.Stream({ stream: opts.stream ?? process.stderr })],
    }),
  );
}

/** A logger that drops everything (library use, tests that do not look at logs). */
export function silentLogger(): winston.Logger {
  return skipDisabled(winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] }));
}

export type Logger = winston.Logger;
