/**
 * Turns what the API answered into what a person wants to read: which field
 * to fix, or a plain sentence, or "try again later". Codes are the stable
 * `extensions.code` values of the public API.
 */
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';

export interface ApiErrorInfo {
  code: string;
  message: string;
  field?: string;
  /** Seconds the server suggested waiting (TRY_LATER / SERVICE_UNAVAILABLE), when it said. */
  retryAfter?: number;
}

interface RawError {
  message?: string;
  extensions?: Record<string, unknown>;
}

function fromRaw(e: RawError): ApiErrorInfo {
  const ext = e.extensions ?? {};
  const retry = ext.retryAfter ?? ext.retryAfterSeconds;
  return {
    code: typeof ext.code === 'string' ? ext.code : 'INTERNAL_SERVER_ERROR',
    message: e.message ?? 'Something went wrong',
    ...(typeof ext.field === 'string' ? { field: ext.field } : {}),
    ...(typeof retry === 'number' ? { retryAfter: retry } : {}),
  };
}

/** The first error in whatever Apollo (or fetch) threw. */
export function apiError(error: unknown): ApiErrorInfo {
  if (CombinedGraphQLErrors.is(error)) {
    const first = error.errors[0];
    if (first) return fromRaw(first);
  }
  if (ServerError.is(error)) {
    // The router answers some failures (401, 429, 503) with a GraphQL-shaped JSON body.
    const retryHeader = Number(error.response.headers.get('retry-after'));
    try {
      const body = JSON.parse(error.bodyText) as { errors?: RawError[] };
      if (body.errors?.[0]) {
        const info = fromRaw(body.errors[0]);
        return info.retryAfter === undefined && retryHeader > 0 ? { ...info, retryAfter: retryHeader } : info;
      }
    } catch {
      /* not JSON */
    }
    if (error.statusCode === 429) return { code: 'TRY_LATER', message: 'Too many requests.', ...(retryHeader > 0 ? { retryAfter: retryHeader } : {}) };
    if (error.statusCode === 401) return { code: 'UNAUTHENTICATED', message: 'Your sign-in is not valid any more.' };
    if (error.statusCode >= 500) {
      return { code: 'SERVICE_UNAVAILABLE', message: 'The service is unavailable.', ...(retryHeader > 0 ? { retryAfter: retryHeader } : {}) };
    }
    return { code: 'BAD_REQUEST', message: error.message };
  }
  if (error instanceof TypeError) {
    // fetch() failed: offline, or the server is down.
    return { code: 'NETWORK', message: 'The server cannot be reached.' };
  }
  return { code: 'INTERNAL_SERVER_ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** A field message without the `"<field>: "` prefix the API puts in front. */
export function fieldMessage(info: ApiErrorInfo): string {
  if (info.field && info.message.startsWith(`${info.field}:`)) return info.message.slice(info.field.length + 1).trim();
  return info.message;
}

function retryHint(info: ApiErrorInfo): string {
  return info.retryAfter ? ` Try again in about ${Math.ceil(info.retryAfter)} seconds.` : ' Please try again in a moment.';
}

/** One sentence for a person; `context` says what they were doing ("reserve", "load the catalog"). */
export function describeError(info: ApiErrorInfo, context = 'do that'): string {
  switch (info.code) {
    case 'BAD_USER_INPUT':
      return info.field ? `Check ${info.field}: ${fieldMessage(info)}.` : `Please check what you entered: ${info.message}.`;
    case 'INSUFFICIENT_STOCK':
      return 'Not enough of this item is in stock for those dates any more. Choose a smaller quantity or another item.';
    case 'PAYMENT_DECLINED':
      return 'Your payment was declined, so nothing was reserved and nothing was charged. Try another payment method.';
    case 'NOT_FOUND':
      return 'That no longer exists. It may have been removed; reload the list.';
    case 'INVALID_STATE':
      return `It is too late to ${context}: it has already moved on (${info.message}).`;
    case 'UNAUTHENTICATED':
      return 'Your sign-in has expired or is not valid. Sign in again.';
    case 'FORBIDDEN':
      return `You are not allowed to ${context}.`;
    case 'SERVICE_UNAVAILABLE':
    case 'TRY_LATER':
      return `We could not ${context} right now because a service is busy or down.${retryHint(info)}`;
    case 'GRAPHQL_VALIDATION_FAILED':
      return `The server does not offer what this page needs to ${context} (its API is older than this page). Try again after it is updated.`;
    case 'NETWORK':
      return `We could not reach the server to ${context}. Check your connection and try again.`;
    default:
      return `Something went wrong and we could not ${context}. Please try again.`;
  }
}
