// The personal data the single sign-on tables hold: only the link between a
// person and their subject identifier at the organization's IdP. Provider
// settings belong to the organization; a sign-in attempt names no one (it
// exists before anyone is known) and is swept within an hour of expiring.
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const notPersonal: ColumnDeclaration = { personal: false };

const link = (category: string): ColumnDeclaration => ({
  personal: true,
  category,
  subject: 'user_id',
  purpose: 'sign-in through the organization\'s identity provider (recognizing the person on their next sign-in)',
  legalBasis: 'GDPR Art. 6(1)(b) contract, and Art. 28 processing on the organization\'s instructions',
  retention: 'while the account is linked; removed with the provider, or on erasure of the person',
  erasure: 'delete',
});

export const datamap: DataMap = {
  sso_providers: {
    id: notPersonal,
    tenant_id: notPersonal,
    name: notPersonal,
    preset: notPersonal,
    issuer: notPersonal,
    client_id: notPersonal,
    client_secret_sealed: notPersonal,
    allowed_domains: notPersonal,
    default_role: notPersonal,
    role_mapping: notPersonal,
    enabled: notPersonal,
    created_at: notPersonal,
    updated_at: notPersonal,
  },
  sso_login_states: {
    state_hash: notPersonal,
    tenant_id: notPersonal,
    provider_id: notPersonal,
    nonce: notPersonal,
    code_verifier_sealed: notPersonal,
    redirect_after: notPersonal,
    created_at: notPersonal,
    expires_at: notPersonal,
    used_at: notPersonal,
  },
  user_identities: {
    provider_id: notPersonal,
    subject: link('user.unique_id'),
    user_id: link('user.unique_id'),
    tenant_id: notPersonal,
    created_at: notPersonal,
  },
};
