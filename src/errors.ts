// The one registry of error codes: every answer the gateway gives for a failure comes from here.
// Each code has an HTTP status and a public title/detail; internal detail goes to the log only.

export const ERRORS = {
  bad_request: { status: 400, title: 'Bad Request', detail: 'The request could not be understood.' },
  bad_path: {
    status: 400,
    title: 'Bad Request',
    detail: 'The request path is not allowed (encoded separators, dot segments or control characters).',
  },
  bad_host: { status: 400, title: 'Bad Request', detail: 'The Host header is missing or not valid.' },
  duplicate_authorization: {
    status: 400,
    title: 'Bad Request',
    detail: 'Send at most one Authorization header.',
  },
  invalid_input: {
    status: 400,
    title: 'Bad Request',
    detail: 'A form field is missing or not valid.',
  },
  password_too_long: {
    status: 400,
    title: 'Bad Request',
    detail: 'Passwords are at most 1024 characters long.',
  },
  insecure_transport: {
    status: 400,
    title: 'Bad Request',
    detail:
      'Signing in needs HTTPS at this address: over plain HTTP the browser drops the sign-in cookies. Use HTTPS, or the gateway’s public_url.',
  },
  invalid_credentials: {
    status: 401,
    title: 'Unauthorized',
    detail: 'The username or password is wrong.',
  },
  invalid_second_factor: {
    status: 401,
    title: 'Unauthorized',
    detail: 'That code, recovery code or passkey was not accepted.',
  },
  mfa_required: {
    status: 401,
    title: 'Unauthorized',
    detail: 'This app asks for a second factor: complete it on the challenge page, then try again.',
  },
  auth_required: {
    status: 401,
    title: 'Unauthorized',
    detail: 'Sign in, or send a valid API token as "Authorization: Bearer <token>".',
  },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    detail: 'You are signed in but lack a claim this route requires.',
  },
  csrf_failed: {
    status: 403,
    title: 'Forbidden',
    detail: 'The form came from another site or has expired; reload the page and try again.',
  },
  email_unverified: {
    status: 403,
    title: 'Forbidden',
    detail: 'Confirm your email address before signing in.',
  },
  oidc_state_invalid: {
    status: 400,
    title: 'Bad Request',
    detail:
      'This sign-in cannot be completed: it expired, was already used, or began in another browser. Start again.',
  },
  oidc_response_invalid: {
    status: 400,
    title: 'Bad Request',
    detail: 'The identity provider’s answer did not pass the gateway’s checks. Start again.',
  },
  oidc_denied: {
    status: 403,
    title: 'Forbidden',
    detail: 'The identity provider did not sign you in (cancelled or refused there).',
  },
  oidc_no_account: {
    status: 403,
    title: 'Forbidden',
    detail: 'No account here belongs to this sign-in. Ask an administrator for access.',
  },
  account_disabled: {
    status: 403,
    title: 'Forbidden',
    detail: 'This account is disabled. Ask an administrator.',
  },
  link_invalid: {
    status: 404,
    title: 'Not Found',
    detail: 'This link is not valid: it was already used, has expired, or was never issued.',
  },
  not_found: { status: 404, title: 'Not Found', detail: 'No route matches this host and path.' },
  method_not_allowed: {
    status: 405,
    title: 'Method Not Allowed',
    detail: 'This method is not allowed here.',
  },
  payload_too_large: { status: 413, title: 'Payload Too Large', detail: 'The request body is too large.' },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported Media Type',
    detail: 'This content type is not accepted here.',
  },
  too_many_requests: {
    status: 429,
    title: 'Too Many Requests',
    detail: 'Too many attempts; try again later.',
  },
  internal: { status: 500, title: 'Internal Server Error', detail: 'Something went wrong on our side.' },
  upstream_unavailable: {
    status: 502,
    title: 'Bad Gateway',
    detail: 'The application behind this route could not be reached.',
  },
  oidc_failed: {
    status: 502,
    title: 'Bad Gateway',
    detail: 'The identity provider could not complete the sign-in. Try again later.',
  },
  oidc_unavailable: {
    status: 503,
    title: 'Service Unavailable',
    detail: 'This identity provider cannot be reached right now. Try again later, or sign in another way.',
  },
  store_unavailable: {
    status: 503,
    title: 'Service Unavailable',
    detail: 'The gateway cannot verify identities right now.',
  },
  upstream_timeout: {
    status: 504,
    title: 'Gateway Timeout',
    detail: 'The application behind this route did not answer in time.',
  },
} as const satisfies Record<string, { status: number; title: string; detail: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** A failure with a stable public code; `internal` is for the log and never sent to a client. */
export class HeroError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly internal: string | undefined;

  constructor(code: ErrorCode, internal?: string, options?: { cause?: unknown }) {
    super(internal ?? ERRORS[code].detail, options);
    this.name = 'HeroError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.internal = internal;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  [extra: string]: unknown;
}

/** The RFC 9457 body for a code. Extra members (login_url, retry_after) are appended after the fixed ones. */
export function problem(code: ErrorCode, extra?: Record<string, unknown>): Problem {
  const e = ERRORS[code];
  return {
    type: `urn:hero-gateway:problem:${code}`,
    title: e.title,
    status: e.status,
    code,
    detail: e.detail,
    ...extra,
  };
}

/** Map a Fastify/Node error with a 4xx statusCode to the nearest public code; everything else is `internal`. */
export function codeForStatus(status: number | undefined): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 429:
      return 'too_many_requests';
    case 502:
      return 'upstream_unavailable';
    case 503:
      return 'store_unavailable';
    case 504:
      return 'upstream_timeout';
    default:
      return status !== undefined && status >= 400 && status < 500 ? 'bad_request' : 'internal';
  }
}
