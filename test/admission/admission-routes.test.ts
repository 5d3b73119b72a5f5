// The webhook endpoints over real HTTPS with client certificates, as the manifests configure them: kube-apiserver
// (with an AdmissionConfiguration kubeConfigFile) presents a client certificate signed by the admission client CA.
import t from 'tap';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { generate } from 'selfsigned';
import { MUTATE_PATH, VALIDATE_PATH, admissionRoutes } from '../../src/admission/admission-routes.js';
import type { AdmissionDeps } from '../../src/admission/admission-review.js';
import { SNAPSHOT_UID_ANNOTATION, escapeJsonPointer } from '../../src/admission/restore-rules.js';
import { encodeJson } from '../../src/apimachinery/json-encoding.js';
import { toStatusError } from '../../src/apimachinery/status-response.js';
import { GROUP as GROUP_SNAP, admissionReview, fakeDeps, persisted, restorePvc } from './fixtures/reviews.js';

interface Pki {
  ca: { key: string; cert: string };
  server: { key: string; cert: string };
  client: { key: string; cert: string };
  rogue: { key: string; cert: string };
  /** Another CA the TLS server trusts (users' client certificates), and a certificate it signed. */
  userCa: { key: string; cert: string };
  user: { key: string; cert: string };
}

async function makePki(): Promise<Pki> {
  const opts = { keyType: 'ec' as const, algorithm: 'sha256' };
  const ca = await generate([{ name: 'commonName', value: 'admission-test-ca' }], {
    ...opts,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const caPair = { key: ca.private, cert: ca.cert };
  const server = await generate([{ name: 'commonName', value: 'volumesnapshot-apiserver.kube-system.svc' }], {
    ...opts,
    ca: caPair,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'volumesnapshot-apiserver.kube-system.svc' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const clientExtensions = [
    { name: 'basicConstraints' as const, cA: false },
    { name: 'keyUsage' as const, digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage' as const, clientAuth: true },
  ];
  const client = await generate([{ name: 'commonName', value: 'kube-apiserver-admission' }], { ...opts, ca: caPair, extensions: clientExtensions });
  // signed by nobody we trust
  const rogue = await generate([{ name: 'commonName', value: 'kube-apiserver-admission' }], { ...opts, extensions: clientExtensions });
  const userCa = await generate([{ name: 'commonName', value: 'cluster-client-ca' }], {
    ...opts,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const userCaPair = { key: userCa.private, cert: userCa.cert };
  const user = await generate([{ name: 'commonName', value: 'alice' }], { ...opts, ca: userCaPair, extensions: clientExtensions });
  return {
    userCa: userCaPair,
    user: { key: user.private, cert: user.cert },
    ca: caPair,
    server: { key: server.private, cert: server.cert },
    client: { key: client.private, cert: client.cert },
    rogue: { key: rogue.private, cert: rogue.cert },
  };
}

async function startServer(
  pki: Pki,
  deps: AdmissionDeps,
  requireClientCert: boolean,
  opts: { clientCaPem?: string; trusted?: string[] } = {},
): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({
    logger: false,
    https: { key: pki.server.key, cert: pki.server.cert, ca: opts.trusted ?? pki.ca.cert, requestCert: true, rejectUnauthorized: false },
  });
  // What the server's error handler does: every thrown error rendered once as a Status.
  app.setErrorHandler((err, _request, reply) => {
    const status = toStatusError(err);
    reply.code(status.code).type('application/json').send(encodeJson(status.toStatus()));
  });
  await app.register(admissionRoutes, { deps, requireClientCert, clientCaPem: opts.clientCaPem });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, port: (app.server.address() as AddressInfo).port };
}

interface Answer {
  status: number;
  contentType: string | undefined;
  body: Record<string, unknown>;
}

function post(
  port: number,
  pki: Pki,
  path: string,
  body: string | Buffer,
  opts: { cert?: { key: string; cert: string }; contentType?: string | null } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { accept: 'application/json, */*', 'content-length': Buffer.byteLength(body) };
    if (opts.contentType !== null) headers['content-type'] = opts.contentType ?? 'application/json';
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: `${path}?timeout=10s`,
        method: 'POST',
        headers,
        ca: pki.ca.cert,
        servername: 'volumesnapshot-apiserver.kube-system.svc',
        ...(opts.cert ? { key: opts.cert.key, cert: opts.cert.cert } : {}),
        agent: false,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { unparsable: text };
          }
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

t.test('admission webhooks over HTTPS', async (t) => {
  const pki = await makePki();
  const logged: Record<string, unknown>[] = [];
  const deps = { ...fakeDeps(), log: (e: Record<string, unknown>) => logged.push(e) };
  const secured = await startServer(pki, deps, true);
  const open = await startServer(pki, fakeDeps(), false);
  t.teardown(async () => {
    await secured.app.close();
    await open.app.close();
  });
  const withCert = { cert: pki.client };

  await t.test('validate: a too-small restore is denied with the exact message', async (t) => {
    const review = admissionReview('CREATE', persisted(restorePvc({ storage: '1Gi' })));
    const res = await post(secured.port, pki, VALIDATE_PATH, JSON.stringify(review), withCert);
    t.equal(res.status, 200);
    t.match(res.contentType, /^application\/json/);
    t.strictSame(res.body, {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: (review.request as { uid: string }).uid,
        allowed: false,
        status: {
          code: 403,
          reason: 'Forbidden',
          message: `cannot restore from VolumeSnapshot "snap1": requested 1Gi is smaller than the snapshot's size 5Gi`,
        },
      },
    });
    t.match(logged.at(-1), { uid: (review.request as { uid: string }).uid, namespace: 'default', name: 'restored', operation: 'CREATE', allowed: false });
  });

  await t.test('validate: a good restore is allowed', async (t) => {
    const review = admissionReview('CREATE', persisted(restorePvc()));
    const res = await post(secured.port, pki, VALIDATE_PATH, JSON.stringify(review), withCert);
    t.equal(res.status, 200);
    t.strictSame(res.body.response, { uid: (review.request as { uid: string }).uid, allowed: true });
  });

  await t.test('mutate: defaults as a base64 JSON patch', async (t) => {
    const review = admissionReview('CREATE', restorePvc({ storageClassName: null, storage: null }));
    const res = await post(secured.port, pki, MUTATE_PATH, JSON.stringify(review), withCert);
    t.equal(res.status, 200);
    const response = res.body.response as { allowed: boolean; patchType: string; patch: string };
    t.equal(response.allowed, true);
    t.equal(response.patchType, 'JSONPatch');
    t.strictSame(JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')), [
      { op: 'add', path: '/spec/storageClassName', value: 'snapshot-promoter' },
      { op: 'add', path: '/spec/resources/requests/storage', value: '5Gi' },
      { op: 'add', path: `/metadata/annotations/${escapeJsonPointer(SNAPSHOT_UID_ANNOTATION)}`, value: 'uid-of-snap1' },
    ]);
  });

  await t.test('v1beta1 in, v1beta1 out', async (t) => {
    const review = admissionReview('CREATE', persisted(restorePvc()), undefined, { apiVersion: 'admission.k8s.io/v1beta1' });
    const res = await post(secured.port, pki, VALIDATE_PATH, JSON.stringify(review), withCert);
    t.equal(res.status, 200);
    t.equal(res.body.apiVersion, 'admission.k8s.io/v1beta1');
  });

  await t.test('client certificates when required', async (t) => {
    const review = JSON.stringify(admissionReview('CREATE', persisted(restorePvc())));
    for (const [what, cert] of [
      ['no certificate', undefined],
      ['a certificate from another CA', pki.rogue],
    ] as const) {
      const res = await post(secured.port, pki, VALIDATE_PATH, review, { cert });
      t.equal(res.status, 401, what);
      t.match(res.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 }, what);
    }
    const res = await post(open.port, pki, VALIDATE_PATH, review);
    t.equal(res.status, 200, 'not required: anonymous kube-apiserver calls are answered');
    t.equal((res.body.response as { allowed: boolean }).allowed, true);
  });

  await t.test('with the admission client CA given, other CAs the TLS server trusts do not count', async (t) => {
    const server = await startServer(pki, fakeDeps(), false, { clientCaPem: pki.ca.cert, trusted: [pki.userCa.cert, pki.ca.cert] });
    t.teardown(() => server.app.close());
    const review = JSON.stringify(admissionReview('CREATE', persisted(restorePvc())));
    const ok = await post(server.port, pki, VALIDATE_PATH, review, withCert);
    t.equal(ok.status, 200, "kube-apiserver's admission client certificate");
    for (const [what, cert] of [
      ['a user certificate from another trusted CA', pki.user],
      ['no certificate', undefined],
      ['an untrusted certificate', pki.rogue],
    ] as const) {
      const res = await post(server.port, pki, VALIDATE_PATH, review, { cert });
      t.equal(res.status, 401, what);
      t.match(res.body, { kind: 'Status', reason: 'Unauthorized', code: 401 }, what);
    }
    await t.rejects(startServer(pki, fakeDeps(), false, { clientCaPem: 'not a PEM' }), /no certificate found/);
  });

  await t.test('malformed reviews are 400 with a message, never 5xx', async (t) => {
    const good = admissionReview('CREATE', persisted(restorePvc()));
    const goodRequest = good.request as Record<string, unknown>;
    const withRequest = (patch: Record<string, unknown>) => JSON.stringify({ ...good, request: { ...goodRequest, ...patch } });
    const cases: Array<[string, string | Buffer, string | RegExp]> = [
      ['bad JSON', '{"kind": "AdmissionReview",', /^the body of the request could not be decoded: /],
      ['empty body', '', /^the body of the request could not be decoded: /],
      ['JSON null', 'null', 'an AdmissionReview in a JSON body is required (Content-Type: application/json)'],
      ['a JSON array', '[]', 'the body of the request is not an AdmissionReview: expected a JSON object'],
      ['a JSON string', '"review"', 'the body of the request is not an AdmissionReview: expected a JSON object'],
      ['no request', JSON.stringify({ kind: 'AdmissionReview', apiVersion: 'admission.k8s.io/v1' }), 'the AdmissionReview has no request'],
      ['request is not an object', JSON.stringify({ ...good, request: 'x' }), 'the AdmissionReview has no request'],
      ['wrong kind', JSON.stringify({ ...good, kind: 'ConversionReview' }), 'expected kind "AdmissionReview", got "ConversionReview"'],
      [
        'wrong apiVersion',
        JSON.stringify({ ...good, apiVersion: 'admission.k8s.io/v2' }),
        'unsupported AdmissionReview apiVersion "admission.k8s.io/v2": expected "admission.k8s.io/v1" or "admission.k8s.io/v1beta1"',
      ],
      ['no uid', withRequest({ uid: undefined }), 'the AdmissionReview request has no uid'],
      ['numeric uid', withRequest({ uid: 7 }), 'the AdmissionReview request has no uid'],
      [
        'another resource',
        withRequest({ resource: { group: '', version: 'v1', resource: 'pods' } }),
        'this webhook admits persistentvolumeclaims, not "pods"',
      ],
      [
        'a resource of another group',
        withRequest({ resource: { group: GROUP_SNAP, version: 'v1', resource: 'volumesnapshots' } }),
        `this webhook admits persistentvolumeclaims, not "volumesnapshots.${GROUP_SNAP}"`,
      ],
      ['another kind', withRequest({ kind: { group: '', version: 'v1', kind: 'Pod' } }), 'this webhook admits PersistentVolumeClaim objects, not "Pod"'],
      ['no operation', withRequest({ operation: undefined }), 'unsupported operation "": expected CREATE, UPDATE, DELETE or CONNECT'],
      ['no object', withRequest({ object: null }), 'the AdmissionReview request has no object'],
      ['object is a Pod', withRequest({ object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } } }), 'request.object is a "Pod", not a PersistentVolumeClaim'],
      ['object of another version', withRequest({ object: { ...(goodRequest.object as object), apiVersion: 'v2' } }), 'request.object has apiVersion "v2", expected "v1"'],
      ['spec is a string', withRequest({ object: { ...(goodRequest.object as object), spec: 'x' } }), 'request.object.spec must be an object'],
      [
        'annotations is a list',
        withRequest({ object: { ...(goodRequest.object as object), metadata: { name: 'x', annotations: ['a'] } } }),
        'request.object.metadata.annotations must be an object',
      ],
      ['UPDATE without oldObject', withRequest({ operation: 'UPDATE', oldObject: null }), 'the AdmissionReview request has no oldObject'],
      [
        'no namespace anywhere',
        withRequest({ namespace: '', object: { ...(goodRequest.object as object), metadata: { name: 'x' } } }),
        'the AdmissionReview request has no namespace (persistentvolumeclaims are namespaced)',
      ],
    ];
    for (const path of [VALIDATE_PATH, MUTATE_PATH]) {
      for (const [what, body, message] of cases) {
        const res = await post(secured.port, pki, path, body, withCert);
        t.equal(res.status, 400, `${path} ${what}: 400`);
        t.match(res.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'BadRequest', code: 400, message }, `${path} ${what}: Status`);
      }
    }
  });

  await t.test('content types and sizes', async (t) => {
    const review = JSON.stringify(admissionReview('CREATE', persisted(restorePvc())));
    let res = await post(secured.port, pki, VALIDATE_PATH, review, { ...withCert, contentType: 'application/yaml' });
    t.equal(res.status, 415);
    t.match(res.body, {
      reason: 'UnsupportedMediaType',
      message: 'the body of the request was in an unknown format - accepted media types include: application/json',
    });
    res = await post(secured.port, pki, VALIDATE_PATH, review, { ...withCert, contentType: null });
    t.equal(res.status, 400, 'no content type');
    res = await post(secured.port, pki, VALIDATE_PATH, review, { ...withCert, contentType: 'application/json; charset=utf-8' });
    t.equal(res.status, 200, 'JSON with a charset');
    const huge = Buffer.alloc(3 * 1024 * 1024 + 10, ' ');
    res = await post(secured.port, pki, VALIDATE_PATH, huge, withCert);
    t.equal(res.status, 413);
    t.match(res.body, { reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
  });

  await t.test('a failing lookup is a 500 Status (kube-apiserver then applies failurePolicy)', async (t) => {
    const failing = await startServer(pki, fakeDeps({ failOnLookup: true }), false);
    t.teardown(() => failing.app.close());
    const res = await post(failing.port, pki, VALIDATE_PATH, JSON.stringify(admissionReview('CREATE', persisted(restorePvc()))));
    t.equal(res.status, 500);
    t.match(res.body, { kind: 'Status', code: 500, reason: 'InternalError' });
    const plain = await post(failing.port, pki, VALIDATE_PATH, JSON.stringify(admissionReview('CREATE', persisted(restorePvc({ snapshot: null })))));
    t.equal(plain.status, 200, 'claims that restore nothing never look anything up');
  });
});
