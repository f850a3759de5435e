// The personal data DSAR handling keeps: the request names its subject by
// address (the subject's own data, needed to answer them), the archive is
// the subject's data itself (encrypted; deleted after 7 days), and a
// restriction flag names the restricted person.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
const purpose = 'answering data-subject requests (GDPR Art. 12–22) and proving they were answered';
const legalBasis = 'GDPR Art. 6(1)(c) legal obligation (Art. 12–22) and Art. 5(2) accountability';
const retention = 'while the request is open, then 3 years as evidence that it was answered';
const evidence = (category: string, subject: string): ColumnDeclaration => ({
  personal: true, category, subject, purpose, legalBasis, retention, erasure: 'retain',
  retainBasis: 'Evidence that a data-subject request was received and answered (Art. 5(2), Art. 12(3)); kept for the limitation period, then swept.',
});

export const dsarDatamap: DataMap = {
  privacy_requests: {
    id: no, tenant_id: no, type: no, channel: no,
    subject_email: evidence('user.contact.email', 'subject_email'),
    requested_by: evidence('user.unique_id', 'requested_by'),
    state: no,
    note: { personal: true, category: 'user.content', subject: 'subject_email', purpose, legalBasis, retention, erasure: 'null' },
    language: no, received_at: no, due_at: no, code_hash: no, code_expires_at: no, code_attempts: no, verified_at: no,
    decided_by: { personal: true, category: 'user.unique_id', subject: 'decided_by', purpose, legalBasis, retention, erasure: 'null' },
    decided_at: no, decision_reason: no, started_at: no, completed_at: no, reminders_sent: no, last_reminded_at: no, overdue_at: no,
    // counts of rows per category and the archive reference; no row values
    result: no,
    error: no, updated_at: no,
  },
  privacy_exports: {
    id: no, tenant_id: no, request_id: no, region: no, object_key: no,
    // The archive holds the subject's data, encrypted under this key: shredding the key erases every copy.
    data_key_wrapped: {
      personal: true, category: 'user.content', subject: 'privacy_requests.subject_email (through request_id)', purpose, legalBasis,
      retention: '7 days, then the archive is deleted by the sweep', erasure: 'crypto_shred',
    },
    size_bytes: no, token_hash: no, link_created_at: no, downloaded_at: no, created_at: no, expires_at: no, deleted_at: no,
  },
  privacy_restrictions: {
    tenant_id: no, subject_kind: no,
    subject_id: {
      personal: true, category: 'user.unique_id', subject: 'subject_id', purpose: 'honouring a restriction of processing (Art. 18)', legalBasis,
      retention: 'until the restriction is lifted, then 3 years as evidence', erasure: 'retain',
      retainBasis: 'Without the flag the restriction could not be honoured (Art. 18(1)); kept while it applies.',
    },
    request_id: no, created_at: no, lifted_at: no,
  },
  privacy_dsar_settings: { tenant_id: no, require_approval: no, export_media_limit_bytes: no, updated_at: no },
};
