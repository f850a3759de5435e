// The personal data the audit tables hold. By construction that is only ids
// (nulled on erasure) and keyed pseudonyms (kept: they are covered by the hash
// chain and identify no one without the platform's pseudonym key).
import type { ColumnDeclaration, DataMap } from '../../platform/datamap.ts';

const notPersonal: ColumnDeclaration = { personal: false };

const purpose = 'security and accountability audit trail (who did what, when, with what outcome)';
const legalBasis = 'GDPR Art. 6(1)(c) and 6(1)(f); Art. 5(2) and 32 accountability and security of processing';
const retention = 'auditRetentionDays (default 365, minimum 180), swept daily behind a signed cut checkpoint';
const retainBasis =
  'Keyed pseudonym covered by the tamper-evident hash chain; removing it would destroy the integrity of the trail. Retained under Art. 17(3)(b) and (e) until the retention sweep.';

const pseudonym = (category: string, subject: string): ColumnDeclaration => ({ personal: true, category, subject, purpose, legalBasis, retention, erasure: 'retain', retainBasis });

export const datamap: DataMap = {
  audit_events: {
    id: notPersonal,
    tenant_id: notPersonal,
    occurred_at: notPersonal,
    action: notPersonal,
    outcome: notPersonal,
    actor_type: notPersonal,
    actor_id: { personal: true, category: 'user.unique_id', subject: 'actor', purpose, legalBasis, retention, erasure: 'null' },
    actor_ref: pseudonym('user.unique_id.pseudonymous', 'actor'),
    actor_via: pseudonym('user.authorization.credentials.pseudonymous', 'actor'),
    actor_tenant_id: notPersonal,
    actor_erased_as: pseudonym('user.unique_id.pseudonymous', 'actor'),
    target_type: notPersonal,
    target_id: { personal: true, category: 'user.unique_id', subject: 'target', purpose, legalBasis, retention, erasure: 'null' },
    target_ref: pseudonym('user.unique_id.pseudonymous', 'target'),
    target_erased_as: pseudonym('user.unique_id.pseudonymous', 'target'),
    request_id: notPersonal,
    ip_pseudonym: pseudonym('user.device.ip_address.pseudonymous', 'actor'),
    ua_pseudonym: pseudonym('user.device.browser_fingerprint.pseudonymous', 'actor'),
    // Personal and free-text values are stored only as masked refs (see mask.ts).
    diff: pseudonym('user.pseudonymous', 'target'),
    details: pseudonym('user.pseudonymous', 'actor'),
    chain_seq: notPersonal,
    prev_hash: notPersonal,
    hash: notPersonal,
  },
  audit_chain_heads: {
    tenant_id: notPersonal,
    chain_seq: notPersonal,
    hash: notPersonal,
    updated_at: notPersonal,
  },
  audit_checkpoints: {
    id: notPersonal,
    tenant_id: notPersonal,
    kind: notPersonal,
    chain_seq: notPersonal,
    hash: notPersonal,
    created_at: notPersonal,
    signature: notPersonal,
  },
};
