// The happy path against the S3 driver: a region whose store is an S3 bucket
// (s3rver on loopback), configured through HAVEN_REGIONS as an operator would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { originalKey } from '../src/modules/media/objects.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { makeClip } from './fixtures/media-clips.ts';
import { decryptedObject, decryptedRendition, objectsOfVideo, type Owner, signedInOwner, stagingFiles, tusUpload, waitForStatus } from './fixtures/media-harness.ts';
import { type S3Server, startS3rver } from './fixtures/media-s3rver.ts';

describe('media on the S3 driver', () => {
  let s3: S3Server;
  let haven: TestHaven;
  let owner: Owner;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'haven-media-s3-'));
    s3 = await startS3rver();
    const regions = { eu: { jurisdiction: 'EU', storage: { driver: 's3', bucket: s3.bucket, endpoint: s3.endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, prefix: 'haven' } } };
    haven = await startTestHaven({ env: { HAVEN_REGIONS: JSON.stringify(regions), HAVEN_DEFAULT_REGION: 'eu' } });
    owner = await signedInOwner(haven);
  });
  after(async () => {
    await haven?.stop();
    await s3?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('upload → ready: encrypted ladder, original and images in the bucket, decodable with the stored key', async () => {
    assert.equal(haven.platform.storage.forRegion('eu').driver, 's3');
    assert.equal(owner.region, 'eu');
    const source = readFileSync(makeClip(dir, 'bucket', { width: 640, height: 360, seconds: 3 }));
    const { videoId } = await tusUpload(haven.url, owner.api, source);
    const video = await waitForStatus(owner.api, videoId, 'ready');
    assert.deepEqual(video.renditions.map((r: any) => r.name), ['240p', '360p', 'audio']);

    const keys = await objectsOfVideo(haven, owner, videoId);
    const prefix = `t/${owner.tenantId}/v/${videoId}/`;
    for (const k of ['hls/master.m3u8', 'hls/240p/index.m3u8', 'hls/240p/init.mp4', 'hls/240p/seg-00000.m4s', 'hls/360p/index.m3u8', 'hls/audio/index.m3u8', 'original.hvn', 'images/poster.jpg.hvn', 'images/storyboard.vtt']) {
      assert.ok(keys.includes(prefix + k), `${k} is in the bucket`);
    }
    for (const name of ['240p', '360p']) {
      const { bytes } = await decryptedRendition(haven, owner, videoId, name);
      const file = join(dir, `${name}.mp4`);
      writeFileSync(file, bytes);
      const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr.trim(), '');
    }
    const original = await decryptedObject(haven, owner, videoId, originalKey(owner.tenantId, videoId));
    assert.equal(createHash('sha256').update(original).digest('hex'), createHash('sha256').update(source).digest('hex'));
    assert.deepEqual(stagingFiles(haven.dataDir, 'eu'), []);
  });
});
