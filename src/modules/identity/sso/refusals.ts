// Every way a single sign-on can be refused: a clear code and message for the
// person, and a reason (an identifier, safe to keep in the audit trail) for
// whoever investigates.
import { AppError } from '../../../platform/errors.ts';

export class SsoRefusal extends AppError {
  readonly reason: string;

  constructor(code: string, status: number, message: string, reason: string) {
    super(code, status, message);
    this.reason = reason;
  }
}

/** Keeps an IdP-supplied error code identifier-like (it ends up in reasons). */
const token = (s: unknown) => String(s ?? 'unknown').toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 60);

export const stateInvalid = (reason: 'state_missing' | 'state_unknown' | 'state_replayed' | 'state_expired' | 'state_not_bound') =>
  new SsoRefusal('sso_state_invalid', 400, 'This sign-in attempt is unknown, expired or already used; start the sign-in again.', reason);

export const tokenInvalid = (reason: string) =>
  new SsoRefusal('sso_token_invalid', 401, 'The identity provider\'s answer failed verification; sign-in refused.', reason);

export const deniedByProvider = (error: unknown) =>
  new SsoRefusal('sso_denied', 401, 'The identity provider did not sign you in.', `idp_${token(error)}`);

export const providerFailed = (reason: string) =>
  new SsoRefusal('sso_provider_error', 502, 'The identity provider could not be reached or refused Haven\'s request; try again later.', reason);

export const providerProblem = (error: unknown) => providerFailed(`idp_${token(error)}`);

export const providerNotFound = (reason = 'provider_unknown') =>
  new SsoRefusal('sso_provider_not_found', 404, 'No enabled single sign-on provider with that id exists for this organization.', reason);

export const emailMissing = () =>
  new SsoRefusal('sso_email_missing', 403, 'The identity provider did not share an email address; allow the email claim for Haven.', 'email_missing');

export const emailInvalid = () =>
  new SsoRefusal('sso_email_invalid', 403, 'The email address the identity provider shared is not acceptable.', 'email_invalid');

export const emailNotVerified = () =>
  new SsoRefusal('sso_email_not_verified', 403, 'The identity provider does not confirm that this email address is verified, so it cannot be used to sign in to an account.', 'email_not_verified');

export const domainNotAllowed = () =>
  new SsoRefusal('sso_domain_not_allowed', 403, 'This organization does not accept sign-ins from that email domain.', 'domain_not_allowed');

export const accountDisabled = (reason: 'account_disabled' | 'membership_disabled') =>
  new SsoRefusal('sso_account_disabled', 403, 'This account is disabled; contact your organization\'s administrator.', reason);
