import t from 'tap';
import { CloudError, classifyAwsError, classifyGceError, isGceAlreadyExists } from '../../src/cloud/cloud-error.js';

/** The shape @aws-sdk/client-ec2 throws for an EC2 Query error answer. */
function awsError(code: string, status: number, fault: 'client' | 'server' = status >= 500 ? 'server' : 'client') {
  return Object.assign(new Error(`${code} message`), { name: code, Code: code, $fault: fault, $metadata: { httpStatusCode: status } });
}

/** The shape google-gax throws for a Compute REST error answer (HTTP status mapped to a gRPC code). */
function gceError(code: number, message: string) {
  return Object.assign(new Error(message), { code });
}

t.test('AWS classification', async (t) => {
  const cases: Array<[unknown, Partial<CloudError>]> = [
    [awsError('RequestLimitExceeded', 503), { code: 'RequestLimitExceeded', retryable: true, throttled: true }],
    [awsError('SnapshotCreationPerVolumeRateExceeded', 400), { retryable: true, throttled: true }],
    [awsError('InternalError', 500), { retryable: true, throttled: false }],
    [awsError('Unavailable', 503), { retryable: true, throttled: false }],
    [awsError('SomethingNew', 502), { code: 'SomethingNew', retryable: true }],
    [awsError('TooManyRequests', 429), { retryable: true, throttled: true }],
    [awsError('InvalidVolume.NotFound', 400), { retryable: false, notFound: true }],
    [awsError('InvalidSnapshot.NotFound', 400), { retryable: false, notFound: true }],
    [awsError('InvalidParameterValue', 400), { code: 'InvalidParameterValue', retryable: false, notFound: false }],
    [awsError('SnapshotLimitExceeded', 400), { retryable: false }],
    [awsError('VolumeInUse', 400), { retryable: true, throttled: false }],
    [awsError('UnauthorizedOperation', 403), { retryable: false }],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { code: 'ECONNRESET', retryable: true }],
    [Object.assign(new Error('x'), { name: 'TimeoutError' }), { retryable: true }],
    [new Error('weird'), { retryable: false }],
  ];
  for (const [err, expected] of cases) {
    const c = classifyAwsError(err);
    t.ok(c instanceof CloudError);
    t.match(c, expected, JSON.stringify(expected));
  }
  const already = CloudError.terminal('X', 'y');
  t.equal(classifyAwsError(already), already, 'a CloudError passes through');
});

t.test('GCE classification', async (t) => {
  const cases: Array<[unknown, Partial<CloudError>]> = [
    [gceError(8, 'Rate Limit Exceeded'), { retryable: true, throttled: true }],
    [gceError(7, 'Rate Limit Exceeded'), { retryable: true, throttled: true }],
    [gceError(7, "Required 'compute.disks.create' permission for 'projects/p'"), { retryable: false, throttled: false }],
    [gceError(8, "Quota 'SNAPSHOTS' exceeded. Limit: 10.0"), { retryable: false, throttled: false }],
    [gceError(14, 'Backend Error'), { retryable: true }],
    [gceError(13, 'Internal Error'), { retryable: true }],
    [gceError(4, 'deadline'), { retryable: true }],
    [gceError(5, "The resource 'x' was not found"), { notFound: true, retryable: false }],
    [gceError(10, "The resource 'x' already exists"), { code: 'alreadyExists', retryable: false }],
    [gceError(3, 'Invalid value for field'), { code: 'INVALID_ARGUMENT', retryable: false }],
    [gceError(16, 'Request is missing required authentication credential.'), { code: 'UNAUTHENTICATED', retryable: false }],
    [new TypeError('fetch failed'), { retryable: true }],
    [
      gceError(3, "The disk resource 'projects/p/zones/z/disks/d' is already being used by 'projects/p/zones/z/instances/i'"),
      { code: 'resourceInUseByAnotherResource', retryable: true },
    ],
  ];
  for (const [err, expected] of cases) t.match(classifyGceError(err), expected, `${(err as Error).message}`);
  t.ok(isGceAlreadyExists(gceError(10, "The resource 'x' already exists")));
  t.ok(isGceAlreadyExists(gceError(6, 'exists')));
  t.notOk(isGceAlreadyExists(gceError(10, 'aborted for another reason')));
  t.ok(isGceAlreadyExists(classifyGceError(gceError(10, "The resource 'x' already exists"))), 'works on a classified error too');
});
