// The personal data the player part keeps: who put a caption track on a
// video. The captions themselves are the organization's content (what its
// videos say), like videos.captions_text in the library's map.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
const purpose = 'captioning the organization\'s videos (GDPR Art. 28, on the organization\'s instructions)';
const legalBasis = 'GDPR Art. 6(1)(b)/(f) as determined by the organization (controller)';
const retention = 'while the video exists; removed with the track or the video';

export const datamap: DataMap = {
  video_captions: {
    tenant_id: no, video_id: no, lang: no, bytes: no, created_at: no,
    label: { personal: true, category: 'user.content.self_image', subject: 'created_by', purpose, legalBasis, retention, erasure: 'retain', retainBasis: 'A track\'s label is the organization\'s content; it decides on erasure of its videos (Art. 28(3)(a)).' },
    // Where the encrypted WebVTT file is: what people in the video said, shredded with the video's data key.
    object_key: no,
    created_by: { personal: true, category: 'user.unique_id', subject: 'created_by', purpose: 'knowing who captioned a video', legalBasis, retention, erasure: 'null' },
  },
};
