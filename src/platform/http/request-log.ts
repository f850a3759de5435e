// Fastify gives every request a child logger bound to its request id. Making
// that child (bindings serialized, and for a route with its own logLevel every
// log method rebuilt) cost several µs per request, while most requests that
// are not logged at info (/healthz, /readyz at warn) never write a line. The
// child is therefore made on the first line that will be written.
import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type LogMethod = (...args: unknown[]) => void;
/** Haven's request loggers descend from its pino logger (log.ts). */
type PinoLike = Logger;

/** A childLoggerFactory for Fastify: the request's logger, made when first needed. */
export function lazyChildLogger(this: unknown, parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(parent as PinoLike, bindings, opts) as unknown as FastifyBaseLogger;
}

class RequestLogger {
  readonly #parent: PinoLike;
  readonly #bindings: Bindings;
  readonly #opts: ChildLoggerOptions;
  /** The lowest level value that is written; as pino's child, fixed when the request starts. */
  readonly #threshold: number;
  #child: PinoLike | undefined;

  constructor(parent: PinoLike, bindings: Bindings, opts: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#opts = opts;
    this.#threshold = parent.levels.values[opts.level ?? parent.level] ?? 0;
  }

  #logger(): PinoLike {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#opts));
  }

  #write(level: Level, value: number, args: unknown[]): void {
    if (this.#child) return (this.#child[level] as LogMethod)(...args);
    if (value < this.#threshold) return;
    (this.#logger()[level] as LogMethod)(...args);
  }

  get level(): string { return this.#child?.level ?? this.#opts.level ?? this.#parent.level; }
  set level(level: string) { this.#logger().level = level; }
  get levels() { return this.#parent.levels; }

  isLevelEnabled(level: string): boolean {
    return this.#child ? this.#child.isLevelEnabled(level) : (this.#parent.levels.values[level] ?? Infinity) >= this.#threshold;
  }

  fatal(...args: unknown[]): void { this.#write('fatal', 60, args); }
  error(...args: unknown[]): void { this.#write('error', 50, args); }
  warn(...args: unknown[]): void { this.#write('warn', 40, args); }
  info(...args: unknown[]): void { this.#write('info', 30, args); }
  debug(...args: unknown[]): void { this.#write('debug', 20, args); }
  trace(...args: unknown[]): void { this.#write('trace', 10, args); }
  silent(): void {}

  child(bindings: Bindings, opts?: ChildLoggerOptions): FastifyBaseLogger { return this.#logger().child(bindings, opts) as FastifyBaseLogger; }
  bindings(): Bindings { return this.#child?.bindings() ?? { ...this.#parent.bindings(), ...this.#bindings }; }
  flush(cb?: (err?: Error) => void): void { this.#parent.flush(cb); }
}
