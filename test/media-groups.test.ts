// How a ladder is split into transcode jobs: the lowest video rendition alone
// and first, the rest in groups, the images with the top rendition.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { imagesGroup, transcodeGroups } from '../src/modules/media/groups.ts';

const ladder = [
  { name: 'audio', kind: 'audio' as const, width: null, height: null },
  { name: '720p', kind: 'video' as const, width: 1280, height: 720 },
  { name: '240p', kind: 'video' as const, width: 426, height: 240 },
  { name: '480p', kind: 'video' as const, width: 854, height: 480 },
  { name: '360p', kind: 'video' as const, width: 640, height: 360 },
];

describe('transcode groups', () => {
  test('the lowest video rendition is a job of its own, first; the rest follow in groups', () => {
    assert.deepEqual(transcodeGroups(ladder, 8), [['240p'], ['360p', '480p', '720p', 'audio']]);
    assert.deepEqual(transcodeGroups(ladder, 2), [['240p'], ['360p', '480p'], ['720p', 'audio']]);
    assert.deepEqual(transcodeGroups(ladder, 1), [['240p'], ['360p'], ['480p'], ['720p'], ['audio']]);
  });

  test('portrait sizes sort by their short side; sound alone is one job; nothing planned, no jobs', () => {
    const portrait = [{ name: '360p', kind: 'video' as const, width: 360, height: 640 }, { name: '240p', kind: 'video' as const, width: 240, height: 426 }];
    assert.deepEqual(transcodeGroups(portrait, 8), [['240p'], ['360p']]);
    assert.deepEqual(transcodeGroups([ladder[0]!], 8), [['audio']]);
    assert.deepEqual(transcodeGroups([], 8), []);
  });

  test('the images come from the group that encodes the top rendition', () => {
    assert.deepEqual(imagesGroup(transcodeGroups(ladder, 8), ladder), ['360p', '480p', '720p', 'audio']);
    assert.deepEqual(imagesGroup(transcodeGroups(ladder, 1), ladder), ['720p']);
    const single = [ladder[2]!, ladder[0]!];
    assert.deepEqual(imagesGroup(transcodeGroups(single, 8), single), ['240p']);
    assert.equal(imagesGroup(transcodeGroups([ladder[0]!], 8), [ladder[0]!]), undefined);
  });
});
