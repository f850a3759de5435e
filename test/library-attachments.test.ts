// Attachments: uploaded as a raw body, stored encrypted (HVN1) in the video's
// region store — the object on disk does not contain the plaintext — read
// back decrypted as a download, size-limited while streaming, deleted with
// their object, and out of reach of other tenants.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ATTACHMENT_MAX_BYTES } from '../src/modules/library/attachments.ts';
import { type ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { createOrg, insertVideo, type Org } from './helpers/library.ts';

/** A raw-body upload with the client's session and CSRF token. */
async function upload(client: ApiClient, videoId: string, filename: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(new URL(`/api/v1/videos/${videoId}/attachments?filename=${encodeURIComponent(filename)}`, client.baseUrl), {
    method: 'POST',
    headers: { cookie: client.cookie!, 'x-csrf-token': client.csrf!, 'content-type': 'application/pdf', ...headers },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

/**
 * An upload over a connection of its own that keeps sending until the server
 * answers (or the body is done): what a client with a too-large file sees.
 */
function oversizedUpload(client: ApiClient, videoId: string, opts: { declaredBytes?: number; sendBytes: number }): Promise<{ status: number; body: any; headers: Headers; sentBytes: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`/api/v1/videos/${videoId}/attachments?filename=big.bin`, client.baseUrl);
    const headers: Record<string, string> = { cookie: client.cookie!, 'x-csrf-token': client.csrf!, 'content-type': 'application/octet-stream' };
    if (opts.declaredBytes !== undefined) headers['content-length'] = String(opts.declaredBytes);
    const req = request(url, { method: 'POST', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: new Headers(), sentBytes: sent }));
    });
    // Writes after the server has answered and closed fail; the answer is what counts.
    req.on('error', (err) => { if (!answered) reject(err); });
    let answered = false;
    req.on('response', () => { answered = true; });
    const chunk = Buffer.alloc(1024 * 1024, 7);
    let sent = 0;
    const pump = () => {
      while (!answered && sent < opts.sendBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

async function download(client: ApiClient, path: string) {
  const res = await fetch(new URL(path, client.baseUrl), { headers: { cookie: client.cookie! } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()), headers: res.headers };
}

describe('attachments', () => {
  let haven: TestHaven;
  let org: Org;
  let other: Org;
  let storageRoot: string;

  before(async () => {
    haven = await startTestHaven();
    org = await createOrg(haven, 'Attach Org');
    other = await createOrg(haven, 'Attach Other');
    storageRoot = join(haven.dataDir, 'storage', org.region);
  });
  after(() => haven.stop());

  const storedFiles = (videoId: string) => {
    const dir = join(storageRoot, 'tenants', org.tenantId, 'videos', videoId, 'attachments');
    return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
  };

  test('an attachment is stored encrypted and comes back byte for byte as a download', async () => {
    const videoId = await insertVideo(haven, org, { title: 'Board meeting' });
    const plaintext = Buffer.from(`CONFIDENTIAL slide notes: revenue up 12% ${'lorem ipsum '.repeat(20_000)}`);
    const created = await upload(org.owner, videoId, '../../etc/Slides ö.pdf', plaintext);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.filename, 'Slides ö.pdf', 'path parts are dropped');
    assert.equal(created.body.contentType, 'application/pdf');
    assert.equal(created.body.sizeBytes, plaintext.length);
    assert.equal(created.body.sha256, createHash('sha256').update(plaintext).digest('hex'));

    const [file, ...more] = storedFiles(videoId);
    assert.ok(file && more.length === 0, 'one object in the video\'s region store');
    const stored = readFileSync(file);
    assert.equal(stored.subarray(0, 4).toString('latin1'), 'HVN1');
    assert.equal(stored.indexOf('CONFIDENTIAL'), -1, 'the stored object does not contain the plaintext');
    assert.equal(stored.indexOf('lorem ipsum'), -1);

    const listed = await org.owner.get(`/api/v1/videos/${videoId}/attachments`);
    assert.deepEqual(listed.body.items.map((a: any) => a.id), [created.body.id]);

    const viewer = await org.as('viewer');
    const got = await download(viewer, `/api/v1/videos/${videoId}/attachments/${created.body.id}`);
    assert.equal(got.status, 200);
    assert.ok(got.bytes.equals(plaintext), 'decrypted on the way out');
    assert.equal(got.headers.get('content-type'), 'application/pdf');
    assert.equal(got.headers.get('content-disposition'), `attachment; filename="Slides _.pdf"; filename*=UTF-8''Slides%20%C3%B6.pdf`);
    assert.equal(got.headers.get('cache-control'), 'private, no-store');

    expectError(await upload(viewer, videoId, 'x.pdf', 'nope'), 403, 'forbidden');

    await haven.modules.audit.seal(org.tenantId);
    const events = (await org.owner.get(`/api/v1/audit/events?action=video.attachment&targetId=${videoId}`)).body.items;
    assert.equal(events[0].action, 'video.attachment.add');
    assert.equal(events[0].details.filename.masked, true, 'the file name is masked in the trail');

    assert.equal((await org.owner.delete(`/api/v1/videos/${videoId}/attachments/${created.body.id}`)).status, 204);
    assert.deepEqual(storedFiles(videoId), [], 'the object goes with the row');
    expectError(await org.owner.get(`/api/v1/videos/${videoId}/attachments/${created.body.id}`), 404, 'attachment_not_found');
  });

  test('anything as Content-Type, any name; a missing name or video is refused', async () => {
    const videoId = await insertVideo(haven, org, { title: 'Data' });
    const json = await upload(org.owner, videoId, 'data.json', '{"a":1}', { 'content-type': 'application/json; charset=utf-8' });
    assert.equal(json.status, 201, JSON.stringify(json.body));
    assert.equal(json.body.contentType, 'application/json');
    const vendor = await upload(org.owner, videoId, 'deck.key', 'x', { 'content-type': 'Application/Vnd.Apple.Keynote; q=1' });
    assert.equal(vendor.body.contentType, 'application/vnd.apple.keynote');
    const odd = await upload(org.owner, videoId, 'raw.bin', 'x', { 'content-type': 'not a type' });
    expectError(odd as any, 415, 'unsupported_media_type');
    const empty = await upload(org.owner, videoId, 'empty.txt', '', { 'content-type': 'text/plain' });
    assert.equal(empty.status, 201);
    assert.equal((await download(org.owner, `/api/v1/videos/${videoId}/attachments/${empty.body.id}`)).bytes.length, 0);
    expectError(await upload(org.owner, videoId, '', 'x'), 400, 'invalid_request');
    expectError(await upload(org.owner, videoId, '..', 'x'), 400, 'invalid_filename');
    expectError(await upload(org.owner, '00000000-0000-4000-8000-000000000000', 'a.txt', 'x'), 404, 'video_not_found');
  });

  test('the size limit holds for a declared length and for a body that only turns out too large', async () => {
    const videoId = await insertVideo(haven, org, { title: 'Big' });
    const declared = await oversizedUpload(org.owner, videoId, { declaredBytes: ATTACHMENT_MAX_BYTES + 1, sendBytes: ATTACHMENT_MAX_BYTES + 1 });
    expectError(declared, 413, 'attachment_too_large');
    assert.ok(declared.sentBytes < ATTACHMENT_MAX_BYTES / 2, `refused before the body arrived (${declared.sentBytes} bytes sent)`);

    const streamed = await oversizedUpload(org.owner, videoId, { sendBytes: ATTACHMENT_MAX_BYTES + 8 * 1024 * 1024 });
    expectError(streamed, 413, 'attachment_too_large');
    assert.deepEqual((await org.owner.get(`/api/v1/videos/${videoId}/attachments`)).body.items, [], 'no row');
    assert.deepEqual(storedFiles(videoId), [], 'no object');
    assert.deepEqual(readdirSync(join(storageRoot, '.tmp')), [], 'no partial file');
    const small = await upload(org.owner, videoId, 'small.txt', 'fits', { 'content-type': 'text/plain' });
    assert.equal(small.status, 201, 'the next upload works');
    const fiveMiB = Buffer.alloc(5 * 1024 * 1024, 'abc');
    const big = await upload(org.owner, videoId, 'big.bin', fiveMiB, { 'content-type': 'application/octet-stream' });
    assert.equal(big.status, 201, `larger than the JSON body limit is fine: ${JSON.stringify(big.body)}`);
    assert.ok((await download(org.owner, `/api/v1/videos/${videoId}/attachments/${big.body.id}`)).bytes.equals(fiveMiB));
  });

  test('another tenant\'s video and attachments are 404', async () => {
    const videoId = await insertVideo(haven, org, { title: 'Ours' });
    const created = await upload(org.owner, videoId, 'ours.txt', 'secret');
    expectError(await other.owner.get(`/api/v1/videos/${videoId}/attachments`), 404, 'video_not_found');
    expectError(await other.owner.get(`/api/v1/videos/${videoId}/attachments/${created.body.id}`), 404, 'attachment_not_found');
    expectError(await other.owner.delete(`/api/v1/videos/${videoId}/attachments/${created.body.id}`), 404, 'attachment_not_found');
    expectError(await upload(other.owner, videoId, 'theirs.txt', 'x'), 404, 'video_not_found');
    assert.equal((await org.owner.get(`/api/v1/videos/${videoId}/attachments`)).body.items.length, 1);
  });
});
