import { StatusError } from './status-error.js';

/** Fastify's own errors, by code, mapped to the Status kube-apiserver would answer for the same input. */
function fromFastifyError(err: { code?: string; message: string; statusCode?: number }): StatusError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return StatusError.requestEntityTooLarge(3 * 1024 * 1024);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? StatusError.unsupportedMediaType(['application/json', 'application/yaml'])
        : StatusError.badRequest(err.message);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return StatusError.badRequest(`the body of the request could not be decoded: ${err.message}`);
    case 'FST_ERR_NOT_FOUND':
      return StatusError.pathNotFound();
    case 'FST_ERR_BAD_URL':
      return StatusError.badRequest(`invalid URL: ${err.message}`);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new StatusError(err.statusCode, err.statusCode === 400 ? 'BadRequest' : undefined, err.message);
  }
  return undefined;
}

/**
 * Whatever was thrown, the StatusError to answer with. Anything we do not recognise is an internal error: the
 * caller logs it (with its stack) and the client sees a 500 Status without internals.
 */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof SyntaxError) return StatusError.badRequest(`the body of the request could not be decoded: ${err.message}`);
  if (err && typeof err === 'object' && 'message' in err) {
    const mapped = fromFastifyError(err as { code?: string; message: string; statusCode?: number });
    if (mapped) return mapped;
  }
  return StatusError.internal('an unexpected error occurred; see the server log');
}
