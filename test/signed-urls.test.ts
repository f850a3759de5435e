// Signed local URLs: time-limited links to one stored object, served with
// byte ranges; anything tampered or expired is refused.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signObjectUrl } from '../src/platform/storage/signed-urls.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';

describe('signed local URLs', () => {
  let haven: TestHaven;
  const body = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
  const key = 'exports/t1/archive.bin';
  const sign = (k = key, expiresAt = new Date(Date.now() + 60_000)) =>
    signObjectUrl(haven.platform.signingKey, { region: 'default', key: k, expiresAt, contentType: 'application/zip' });

  before(async () => {
    haven = await startTestHaven();
    await haven.platform.storage.forRegion('default').put(key, body);
  });
  after(() => haven.stop());

  test('serves the object, whole and by range', async () => {
    const whole = await haven.request(sign());
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'application/zip');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), body);
    const part = await haven.request(sign(), { headers: { range: 'bytes=10-15' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-15/${body.length}`);
    assert.equal(await part.text(), 'abcdef');
    const suffix = await haven.request(sign(), { headers: { range: 'bytes=-3' } });
    assert.equal(await suffix.text(), 'xyz');
    const bad = await haven.request(sign(), { headers: { range: 'bytes=999-' } });
    assert.equal(bad.status, 416);
    assert.equal((await bad.json() as any).error.code, 'range_not_satisfiable');
  });

  test('tampered, reused for another key, retyped or expired links are refused', async () => {
    const url = sign();
    const cases = [
      url.replace(/sig=[^&]+/, 'sig=AAAA'),
      url.replace('archive.bin', 'other.bin'),
      url.replace('type=application%2Fzip', 'type=text%2Fhtml'),
      url.replace(/expires=\d+/, (m) => `expires=${Number(m.slice(8)) + 3600}`),
      sign(key, new Date(Date.now() - 1000)),
      url.replace('/default/', '/elsewhere/'),
    ];
    for (const c of cases) {
      const res = await haven.request(c);
      assert.equal(res.status, 403, c);
      assert.equal((await res.json() as any).error.code, 'signed_url_invalid');
    }
    const traversal = await haven.request('/storage/default/../../secrets/masterKey.key?expires=9999999999&sig=AAAA');
    assert.ok([403, 404].includes(traversal.status));
    assert.throws(() => sign('../secrets/masterKey.key'), /invalid|key/i);
  });
});
