// The personal data of access control. Policies and links are the
// organization's settings; what names people is who changed them, the free
// text of a link's label, and — for viewers who sign in through the
// organization's SSO for audiences — the viewer's account (the viewer is the
// data subject there). Passwords are stored only as argon2id hashes and are
// the video's, not a person's.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
const basis = 'GDPR Art. 6(1)(b)/(f) as determined by the organization (controller)';
const settingsRetention = 'while the video exists (deleted with it)';
const editor = (column: string, why: string): ColumnDeclaration => ({
  personal: true, category: 'user.unique_id', subject: column, purpose: why, legalBasis: basis, retention: settingsRetention, erasure: 'null',
});
const viewer = (category: string, erasure: 'delete' = 'delete'): ColumnDeclaration => ({
  personal: true, category, subject: 'id',
  purpose: 'admitting a viewer who signed in through the organization\'s identity provider to the videos it opened to them',
  legalBasis: 'GDPR Art. 6(1)(b)/(f) as determined by the organization (controller); Art. 28 processing on its instructions',
  retention: 'while the organization\'s provider exists (deleted with it), or until the viewer\'s erasure',
  erasure,
});

export const accessDatamap: DataMap = {
  video_access_policies: {
    video_id: no, tenant_id: no, policy: no, version: no, password_hash: no, password_version: no, available_from: no, available_until: no,
    updated_by: editor('updated_by', 'knowing who changed who may watch a video (security)'), updated_at: no,
  },
  video_links: {
    id: no, tenant_id: no, video_id: no,
    label: {
      personal: true, category: 'user.content', subject: 'created_by', purpose: 'naming an unlisted link for the editors who manage it', legalBasis: basis,
      retention: settingsRetention, erasure: 'retain',
      retainBasis: 'A label is the organization\'s note about its own link; it decides on erasure of its settings (Art. 28(3)(a)); the creator link itself is removed.',
    },
    secret_hash: no, expires_at: no, revoked_at: no,
    created_by: editor('created_by', 'knowing who shared a video through an unlisted link (security)'),
    revoked_by: editor('revoked_by', 'knowing who revoked an unlisted link (security)'),
    created_at: no,
  },
  audience_accounts: {
    id: viewer('user.unique_id'), tenant_id: no, provider_id: no,
    subject: viewer('user.unique_id'),
    email: viewer('user.contact.email'),
    created_at: viewer('user.behavior'),
    last_seen_at: viewer('user.behavior'),
  },
};
