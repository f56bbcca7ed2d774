// CORS on the Engine.IO endpoint (contract: any origin reflected,
// credentials true), checked against the Node.js reference (the `cors`
// middleware that engine.io runs before anything else).
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { targets, startServer } from './server.mjs';
import * as R from './lib/raw.mjs';

const T = { timeout: 15000 };
const ORIGIN = 'http://example.test';

function methodsOf(res) {
  return (res.headers.get('access-control-allow-methods') || '').split(',').map((m) => m.trim().toUpperCase());
}

function varies(res, header) {
  return (res.headers.get('vary') || '').split(',').map((v) => v.trim().toLowerCase()).includes(header.toLowerCase());
}

for (const target of targets) {
  describe(`engine CORS [${target}]`, () => {
    let srv;
    let base;
    before(async () => { srv = await startServer(target); base = srv.url; });
    after(async () => { await R.closeAll(); await srv?.stop(); });
    afterEach(() => R.closeAll());

    for (const method of ['GET', 'POST']) {
      it(`preflight OPTIONS (Access-Control-Request-Method: ${method}) -> 204, origin reflected, credentials, methods`, T, async () => {
        const res = await R.request(R.eioUrl(base), {
          method: 'OPTIONS',
          headers: { origin: ORIGIN, 'access-control-request-method': method },
        });
        assert.equal(res.status, 204);
        assert.equal(res.body, '');
        assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        const methods = methodsOf(res);
        for (const m of ['GET', 'POST']) assert.ok(methods.includes(m), `allow-methods ${methods} lacks ${m}`);
        assert.ok(varies(res, 'Origin'), `Vary: ${res.headers.get('vary')}`);
      });
    }

    it('preflight for a session URL (with sid) is answered the same way', T, async () => {
      const hs = await R.handshake(base);
      const res = await R.request(R.eioUrl(base, { sid: hs.sid }), {
        method: 'OPTIONS',
        headers: { origin: ORIGIN, 'access-control-request-method': 'POST' },
      });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    });

    it('preflight with Access-Control-Request-Headers allows those headers', T, async () => {
      const res = await R.request(R.eioUrl(base), {
        method: 'OPTIONS',
        headers: {
          origin: ORIGIN,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-custom',
        },
      });
      assert.equal(res.status, 204);
      const allowed = (res.headers.get('access-control-allow-headers') || '').toLowerCase().split(',').map((h) => h.trim());
      for (const h of ['content-type', 'x-custom']) assert.ok(allowed.includes(h), `allow-headers ${allowed} lacks ${h}`);
    });

    it('handshake GET with Origin echoes it, with credentials', T, async () => {
      const hs = await R.handshake(base, { headers: { origin: ORIGIN } });
      assert.equal(hs.status, 200);
      assert.equal(hs.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(hs.headers.get('access-control-allow-credentials'), 'true');
      assert.ok(varies(hs, 'Origin'), `Vary: ${hs.headers.get('vary')}`);
    });

    it('POST and GET of a session with Origin echo it', T, async () => {
      const headers = { origin: 'http://other.example.test:8080' };
      const hs = await R.handshake(base, { headers });
      const p = await R.post(base, hs.sid, '40', { headers });
      assert.equal(p.status, 200);
      assert.equal(p.headers.get('access-control-allow-origin'), headers.origin);
      assert.equal(p.headers.get('access-control-allow-credentials'), 'true');
      const g = await R.poll(base, hs.sid, { headers });
      assert.match(g.body, /^40\{/);
      assert.equal(g.headers.get('access-control-allow-origin'), headers.origin);
      assert.equal(g.headers.get('access-control-allow-credentials'), 'true');
    });

    it('an error answer (400) carries the CORS headers too', T, async () => {
      const res = await R.request(R.eioUrl(base, { EIO: 3 }), { headers: { origin: ORIGIN } });
      R.assertEioError(res, 5);
      assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    });

    it('without Origin there is no Access-Control-Allow-Origin (never "*" with credentials), and Vary: Origin', T, async () => {
      const hs = await R.handshake(base);
      assert.equal(hs.status, 200);
      assert.equal(hs.headers.get('access-control-allow-origin'), null);
      // the answer depends on Origin, so caches are told so even without one
      assert.ok(varies(hs, 'Origin'), `Vary: ${hs.headers.get('vary')}`);
    });
  });
}
