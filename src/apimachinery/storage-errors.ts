// StorageError → StatusError, as k8s.io/apiserver/pkg/storage/errors.go's InterpretGetError / InterpretCreateError /
// InterpretUpdateError / InterpretDeleteError and the cacher's list/watch errors do.

import { StorageError } from '../storage/store.js';
import { StatusError, type GroupResource } from './status-error.js';

export function toStatusFromStorage(err: unknown, gr: GroupResource, name = ''): unknown {
  if (!(err instanceof StorageError)) return err;
  const objName = err.ref?.name ?? name;
  switch (err.code) {
    case 'NotFound':
      return StatusError.notFound(gr, objName);
    case 'AlreadyExists':
      return StatusError.alreadyExists(gr, objName);
    case 'Conflict':
      return StatusError.staleUpdate(gr, objName);
    case 'PreconditionFailed':
      return StatusError.conflict(gr, objName, err.message);
    case 'Expired':
      return StatusError.gone(err.message);
    case 'TooLargeResourceVersion': {
      const e = StatusError.timeout(`Timeout: ${err.message}`, 1);
      e.details!.causes = [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }];
      return e;
    }
    case 'InvalidContinue':
      return StatusError.badRequest(`invalid continue token: ${err.message}`);
    case 'InvalidResourceVersion':
      return new StatusError(400, 'BadRequest', err.message);
    case 'TooSlow':
      return StatusError.gone(err.message);
    case 'Unavailable':
      return StatusError.serviceUnavailable(err.message);
  }
  return err;
}
