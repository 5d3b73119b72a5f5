// The error a call is expected to throw, typed so a test can assert on its fields; anything else thrown is rethrown
// and no throw at all fails, so a test cannot pass by accident.

type ErrorClass<E> = abstract new (...args: never[]) => E;

export function thrownBy<E>(type: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

export async function rejectionOf<E>(type: ErrorClass<E>, promise: Promise<unknown>): Promise<E> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
