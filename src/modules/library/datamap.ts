// The personal data the library's tables hold. Videos are the organization's
// content; what links them to people is the uploader and what people wrote in
// titles and descriptions. The media itself is crypto-shredded with its key.
import type { ColumnDeclaration, DataMap } from '../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
const content = 'providing the organization\'s video library (GDPR Art. 28, on the organization\'s instructions)';
const basis = 'GDPR Art. 6(1)(b)/(f) as determined by the organization (controller)';
const retention = 'while the video exists; 30 days in trash after deletion, then purged and its key destroyed';

const uploader: ColumnDeclaration = { personal: true, category: 'user.unique_id', subject: 'owner_id', purpose: content, legalBasis: basis, retention, erasure: 'null' };
const freeText: ColumnDeclaration = { personal: true, category: 'user.content.self_image', subject: 'owner_id', purpose: content, legalBasis: basis, retention, erasure: 'retain', retainBasis: 'Titles and descriptions are the organization\'s content; it decides on erasure of its videos (Art. 28(3)(a)); the uploader link itself is removed.' };
const media: ColumnDeclaration = { personal: true, category: 'user.content.self_image', subject: 'owner_id', purpose: content, legalBasis: basis, retention, erasure: 'crypto_shred' };

export const datamap: DataMap = {
  videos: {
    id: no, tenant_id: no, region: no, owner_id: uploader, title: freeText, description: freeText, language: no,
    status: no, error_code: no, error_message: no, progress_percent: no, progress_step: no, duration_ms: no, width: no, height: no,
    has_audio: no, source_size_bytes: no, source_sha256: no, data_key_wrapped: media, original_key: no, technical: no,
    created_at: no, updated_at: no, ready_at: no,
  },
  renditions: {
    video_id: no, tenant_id: no, name: no, kind: no, width: no, height: no, bandwidth: no, codecs: no, playlist_key: no,
    segment_count: no, status: no, created_at: no, ready_at: no,
  },
  uploads: {
    id: no, tenant_id: no, video_id: no, user_id: uploader, size_bytes: no, received_bytes: no, created_at: no, expires_at: no, completed_at: no,
  },
};
