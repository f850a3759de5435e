// The personal data the identity tables hold: who people are, how they sign
// in, and what they consented to.
import type { ColumnDeclaration, DataMap, ErasureAction } from '../../platform/datamap.ts';
import { datamap as sso } from './sso/datamap.ts';

const no: ColumnDeclaration = { personal: false };

const account = 'GDPR Art. 6(1)(b) contract (providing the account), Art. 28 on the organization\'s instructions';
const security = 'GDPR Art. 6(1)(f) legitimate interest and Art. 32 security of processing';

function personal(category: string, subject: string, purpose: string, legalBasis: string, retention: string, erasure: ErasureAction, retainBasis?: string): ColumnDeclaration {
  return { personal: true, category, subject, purpose, legalBasis, retention, erasure, ...(retainBasis ? { retainBasis } : {}) };
}

const profile = (category: string, erasure: ErasureAction = 'delete', subject = 'id') =>
  personal(category, subject, 'the person\'s account: signing in, being named to colleagues, mail', account, 'while the account exists', erasure);
const credential = (category: string, subject = 'user_id') =>
  personal(category, subject, 'authentication', security, 'while the account exists; replaced on change', 'delete');
const sessionData = (category: string) =>
  personal(category, 'user_id', 'keeping a person signed in and letting them see and end their sessions', security, 'until the session ends (idle or absolute timeout), then swept', 'delete');
const consentEvidence = (category: string) =>
  personal(category, 'user_id', 'proof of consent and acceptance of terms', 'GDPR Art. 7(1) (demonstrating consent) and Art. 6(1)(c)', 'for as long as the processing it covers, then with the account', 'retain',
    'Art. 7(1) requires the controller to be able to demonstrate consent; the record is kept, linked to an erasure pseudonym, for the limitation period.');

const trashedBy = (what: string) =>
  personal('user.unique_id', 'deleted_by', `knowing who removed ${what}, so it can be restored within the trash window and the deletion answered for`, security, 'until the row is purged from the trash', 'null');

export const datamap: DataMap = {
  tenants: {
    id: no, slug: no, name: no, region: no, status: no, created_at: no, security_level: no, settings: no,
    // the trash (privacy, migration 0016): a platform operator deleted the tenant
    deleted_at: no, deleted_by: trashedBy('the tenant'), purge_after: no, purge_started_at: no, purged_at: no,
  },
  tenant_keys: { tenant_id: no, version: no, wrapped_key: no, created_at: no, destroyed_at: no },
  users: {
    id: profile('user.unique_id'),
    username: profile('user.name'),
    username_normalized: profile('user.name'),
    email: profile('user.contact.email'),
    email_normalized: profile('user.contact.email'),
    email_verified_at: no,
    display_name: profile('user.name'),
    preferred_language: profile('user.demographic.language'),
    password_hash: credential('user.authorization.credentials', 'id'),
    password_changed_at: no,
    status: no,
    platform_roles: no,
    reseller_tenants: no,
    locked_until: no,
    totp_secret_sealed: credential('user.authorization.credentials', 'id'),
    totp_enabled_at: no,
    totp_last_step: no,
    created_at: no,
    updated_at: no,
  },
  memberships: {
    tenant_id: no, user_id: profile('user.unique_id', 'delete', 'user_id'), role: no, status: no, created_at: no,
    deleted_at: no, deleted_by: trashedBy('a person from the organization'), purge_after: no, purge_started_at: no,
  },
  sessions: {
    id: no,
    token_hash: no,
    user_id: sessionData('user.unique_id'),
    tenant_id: no,
    created_at: no,
    last_seen_at: sessionData('user.behavior.session'),
    expires_at: no,
    idle_timeout_seconds: no,
    mfa_at: no,
    reauth_at: no,
    ip_pseudonym: sessionData('user.device.ip_address.pseudonymous'),
    user_agent_summary: sessionData('user.device.browser_type'),
    revoked_at: no,
    revoked_reason: no,
  },
  api_tokens: {
    id: no, tenant_id: no, user_id: credential('user.unique_id'), name: credential('user.authorization.credentials'),
    token_hash: no, scopes: no, created_at: no, expires_at: no, last_used_at: credential('user.behavior.session'), revoked_at: no,
  },
  password_resets: { token_hash: no, user_id: credential('user.unique_id'), created_at: no, expires_at: no, used_at: no },
  recovery_codes: { user_id: credential('user.unique_id'), code_hash: credential('user.authorization.credentials'), used_at: no },
  webauthn_credentials: {
    id: credential('user.authorization.credentials'), user_id: credential('user.unique_id'), public_key: credential('user.authorization.credentials'),
    counter: no, transports: credential('user.device.device_type'), device_type: credential('user.device.device_type'), backed_up: no,
    name: credential('user.authorization.credentials'), created_at: no, last_used_at: credential('user.behavior.session'),
  },
  webauthn_challenges: { id: no, user_id: credential('user.unique_id'), challenge: no, purpose: no, created_at: no, expires_at: no, used_at: no },
  consent_documents: { id: no, tenant_id: no, kind: no, version: no, title: no, body: no, audience: no, legal_basis: no, published_at: no },
  consent_records: {
    id: no, tenant_id: no, user_id: consentEvidence('user.unique_id'), document_id: no, document_kind: no, document_version: no,
    decision: consentEvidence('user.consent'), method: no, ip_pseudonym: consentEvidence('user.device.ip_address.pseudonymous'),
    user_agent_summary: consentEvidence('user.device.browser_type'), recorded_at: no,
  },
  invitations: {
    id: no, tenant_id: no,
    email: personal('user.contact.email', 'email', 'inviting a person to the organization', account, 'until accepted, revoked or 7 days after expiry', 'delete'),
    email_normalized: personal('user.contact.email', 'email', 'inviting a person to the organization', account, 'until accepted, revoked or 7 days after expiry', 'delete'),
    role: no, language: no, invited_by: profile('user.unique_id', 'null', 'invited_by'), token_hash: no, expires_at: no, accepted_at: no, revoked_at: no, created_at: no,
  },
  email_verifications: {
    token_hash: no, user_id: credential('user.unique_id'), email_normalized: credential('user.contact.email'),
    created_at: no, expires_at: no, used_at: no,
  },
  // Groups of people in an organization (migration 0024): the group itself is
  // the organization's; who is in it links a person, and goes with them.
  groups: {
    id: no, tenant_id: no, name: no, description: no,
    created_by: profile('user.unique_id', 'null', 'created_by'), created_at: no, updated_at: no,
  },
  group_members: {
    tenant_id: no, group_id: no,
    user_id: personal('user.unique_id', 'user_id', 'the groups the organization puts a person in, which decide what they may watch', account, 'while the person is in the group and the organization', 'delete'),
    added_by: profile('user.unique_id', 'null', 'added_by'), added_at: no,
  },
  ...sso,
};
