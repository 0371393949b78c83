/**
 * Host log lines, each tagged with what it belongs to: function, orchestration instance and step.
 * `step` is the orchestration's episode number, or `task <id>` for an activity.
 */
export type LogLevel = 'trace' | 'debug' | 'information' | 'warning' | 'error' | 'critical';

export interface LogTags {
  functionName?: string;
  instanceId?: string;
  step?: string;
  invocationId?: string;
}

export interface LogRecord extends LogTags {
  time: string;
  level: LogLevel;
  category: 'host' | 'user' | 'system';
  message: string;
}

export type LogSink = (record: LogRecord) => void;

const LEVELS: readonly LogLevel[] = ['trace', 'debug', 'information', 'warning', 'error', 'critical'];

export function normaliseLevel(level: string): LogLevel {
  const lower = level.toLowerCase();
  if (lower === 'info') return 'information';
  if (lower === 'warn') return 'warning';
  if (lower === 'none') return 'trace';
  return (LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : 'information';
}

export function formatLogRecord(record: LogRecord): string {
  const tags = [
    record.functionName && `fn=${record.functionName}`,
    record.instanceId && `instance=${record.instanceId}`,
    record.step && `step=${record.step}`,
  ]
    .filter(Boolean)
    .join(' ');
  return `${record.time} ${record.level.toUpperCase().padEnd(11)} ${tags ? `[${tags}] ` : ''}${record.message}`;
}

/** A sink writing formatted lines to a stream, dropping levels below `minLevel`. */
export function streamSink(stream: NodeJS.WritableStream, minLevel: LogLevel = 'information'): LogSink {
  const min = LEVELS.indexOf(minLevel);
  return (record) => {
    if (LEVELS.indexOf(record.level) >= min) stream.write(`${formatLogRecord(record)}\n`);
  };
}

export class HostLogger {
  constructor(
    private readonly sink: LogSink,
    private readonly clockNow: () => number = Date.now,
  ) {}

  log(level: LogLevel, category: LogRecord['category'], message: string, tags: LogTags = {}): void {
    this.sink({ time: new Date(this.clockNow()).toISOString(), level, category, message, ...tags });
  }

  info(message: string, tags?: LogTags): void {
    this.log('information', 'host', message, tags);
  }

  warn(message: string, tags?: LogTags): void {
    this.log('warning', 'host', message, tags);
  }

  error(message: string, tags?: LogTags): void {
    this.log('error', 'host', message, tags);
  }

  debug(message: string, tags?: LogTags): void {
    this.log('debug', 'host', message, tags);
  }

  /** A `(level, category, message)` callback for one invocation, tagged. */
  forInvocation(tags: LogTags): (level: string, category: string, message: string) => void {
    return (level, category, message) =>
      this.log(normaliseLevel(level), category === 'user' ? 'user' : 'system', message, tags);
  }
}
