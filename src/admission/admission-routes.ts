// The two webhook endpoints kube-apiserver calls for PersistentVolumeClaims. Thin: parse JSON, optionally insist on a
// verified client certificate, hand the review to reviewPersistentVolumeClaim, answer 200 with the AdmissionReview.
// Errors are thrown as StatusError and rendered by the server's error handler.
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { encodeJson } from '../apimachinery/json-encoding.js';
import { StatusError } from '../apimachinery/status-error.js';
import { type AdmissionDeps, type AdmissionMode, reviewPersistentVolumeClaim } from './admission-review.js';

export const MUTATE_PATH = '/mutate-v1-persistentvolumeclaim';
export const VALIDATE_PATH = '/validate-v1-persistentvolumeclaim';

/** kube-apiserver's own request body limit (3 MiB); an AdmissionReview carries two PVCs at most. */
export const ADMISSION_BODY_LIMIT = 3 * 1024 * 1024;

export interface AdmissionRoutesOptions {
  deps: AdmissionDeps;
  /**
   * Refuse callers without a client certificate that the TLS server verified (`--admission-client-ca-file`, what an
   * AdmissionConfiguration kubeConfigFile gives kube-apiserver). Off by default: kube-apiserver calls webhooks without
   * credentials unless the cluster admin configures some.
   */
  requireClientCert?: boolean;
  /**
   * The admission client CA (PEM, one or more certificates). When set, a client certificate is required (as with
   * `requireClientCert`) and its chain must also pass through one of these CAs: the TLS server trusts other CAs too
   * (users' client certificates, the front proxy), and those must not count as kube-apiserver's admission client.
   */
  clientCaPem?: string;
}

/** Splits a PEM bundle into certificates. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

function clientCertVerified(request: FastifyRequest, cas: X509Certificate[] | undefined): boolean {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || socket.authorized !== true) return false;
  if (!cas) return true;
  // The TLS layer verified the chain up to one of its roots; require one of its links to be signed by our CA.
  let cert = socket.getPeerCertificate?.(true) as DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    const x509 = new X509Certificate(cert.raw);
    if (cas.some((ca) => x509.checkIssued(ca) && x509.verify(ca.publicKey))) return true;
    cert = cert.issuerCertificate;
  }
  return false;
}

export const admissionRoutes: FastifyPluginAsync<AdmissionRoutesOptions> = async (app, opts) => {
  const { deps, clientCaPem } = opts;
  const cas = clientCaPem ? parseCertificates(clientCaPem) : undefined;
  if (cas && cas.length === 0) throw new Error('admission client CA: no certificate found in the PEM given');
  const requireClientCert = opts.requireClientCert === true || cas !== undefined;

  // This plugin's own body parsing (encapsulated: the API routes keep theirs): JSON only, parsed as a plain string so
  // every malformed body becomes our 400 rather than a parser-specific error.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(/^application\/json(\s*;.*)?$/i, { parseAs: 'string', bodyLimit: ADMISSION_BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(StatusError.badRequest(`the body of the request could not be decoded: ${(err as Error).message}`), undefined);
    }
  });
  app.addContentTypeParser('*', (request, _payload, done) => {
    const type = request.headers['content-type'];
    done(
      type ? StatusError.unsupportedMediaType(['application/json']) : StatusError.badRequest('an AdmissionReview in a JSON body is required (Content-Type: application/json)'),
      undefined,
    );
  });

  if (requireClientCert) {
    // Before the body is read: an unauthenticated caller cannot make us parse 3 MiB.
    app.addHook('onRequest', (request, _reply, done) => {
      if (clientCertVerified(request, cas)) done();
      else done(StatusError.unauthorized('Unauthorized: the admission webhooks require a client certificate signed by the admission client CA'));
    });
  }

  const handle = (mode: AdmissionMode) => async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.body === undefined || request.body === null) {
      throw StatusError.badRequest('an AdmissionReview in a JSON body is required (Content-Type: application/json)');
    }
    const log = deps.log ?? ((entry: Record<string, unknown>) => request.log.info(entry, 'admission review'));
    const review = await reviewPersistentVolumeClaim(request.body, mode, deps.log ? deps : { ...deps, log });
    reply.code(200).type('application/json').send(encodeJson(review));
    return reply;
  };

  app.post(MUTATE_PATH, { bodyLimit: ADMISSION_BODY_LIMIT }, handle('mutate'));
  app.post(VALIDATE_PATH, { bodyLimit: ADMISSION_BODY_LIMIT }, handle('validate'));
};
