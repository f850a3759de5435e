// Errors are values with a code; the HTTP layer turns them into the envelope
// {"error":{"code","message","details?"}} and never shows internals.
export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details?: unknown;

  constructor(code: string, status: number, message: string, details?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export const notFound = (what: string, code = `${what}_not_found`) =>
  new AppError(code, 404, `No ${what.replaceAll('_', ' ')} with that id exists.`);
