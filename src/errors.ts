/**
 * One error hierarchy for everything Ferry throws on purpose. `status` is the HTTP status a
 * request handler answers with, `code` a stable machine-readable name, and `expose` says whether
 * the message may be shown to whoever made the request (internal details never are).
 */
export class FerryError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;

  constructor(message: string, options: { status?: number; code?: string; expose?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? 500;
    this.code = options.code ?? 'internal_error';
    this.expose = options.expose ?? this.status < 500;
  }
}

export class BadRequest extends FerryError {
  readonly details: unknown;
  constructor(message: string, code = 'bad_request', details?: unknown) {
    super(message, { status: 400, code });
    this.details = details;
  }
}

export class Unauthorized extends FerryError {
  constructor(message = 'A valid bearer token is required.') {
    super(message, { status: 401, code: 'unauthorized' });
  }
}

export class Forbidden extends FerryError {
  constructor(message = 'This request is not allowed.', code = 'forbidden') {
    super(message, { status: 403, code });
  }
}

export class NotFound extends FerryError {
  constructor(message = 'Not found.', code = 'not_found') {
    super(message, { status: 404, code });
  }
}

export class Conflict extends FerryError {
  constructor(message: string, code = 'conflict') {
    super(message, { status: 409, code });
  }
}

export class TooManyRequests extends FerryError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, { status: 429, code: 'too_many_requests' });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export class ServiceUnavailable extends FerryError {
  constructor(message: string, code = 'unavailable') {
    super(message, { status: 503, code, expose: true });
  }
}

/** A configuration problem found at start-up: the message names the key and what is wrong. */
export class ConfigError extends FerryError {
  constructor(message: string) {
    super(message, { status: 500, code: 'invalid_configuration', expose: false });
  }
}
