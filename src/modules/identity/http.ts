// The identity module's HTTP surface: the request context every route
// relies on, then its routes. Imported only by a node that serves HTTP.
import type { Tx } from '../../platform/db/database.ts';
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import type { AuditPort } from './audit-port.ts';
import type { IdentityModule } from './index.ts';
import { registerGroupRoutes } from './groups/routes.ts';
import { installRequestContext } from './http-context.ts';
import { registerAccountRoutes } from './routes/account.ts';
import { createSessionReplies, registerAuthRoutes } from './routes/auth.ts';
import { registerConsentRoutes } from './routes/consent.ts';
import { registerEmailVerificationRoutes } from './routes/email-verification.ts';
import { registerInvitationRoutes } from './routes/invitations.ts';
import { registerPasskeyRoutes } from './routes/passkeys.ts';
import { registerPeopleRoutes } from './routes/people.ts';
import { registerSsoRoutes } from './routes/sso.ts';
import { registerTenantRoutes } from './routes/tenant.ts';
import { registerTwoFactorRoutes } from './routes/two-factor.ts';

type Services = Pick<IdentityModule, 'sessions' | 'login' | 'account' | 'totp' | 'passkeys' | 'people' | 'groups' | 'tenantAdmin' | 'consent' | 'invitations' | 'invitationAcceptance' | 'emailVerification' | 'sso'>;

export interface IdentityRouteDeps extends Services {
  platform: Platform;
  audit: AuditPort;
  /** Runs fn in the request's tenant scope, or the platform's for an operator without one. */
  inScope: <T>(ctx: RequestContext, fn: (tx: Tx) => Promise<T>) => Promise<T>;
}

export function registerIdentityRoutes(app: HttpServer, deps: IdentityRouteDeps): void {
  const { platform, audit, sessions } = deps;
  installRequestContext(app, platform, sessions, audit);
  // Secure even on plain HTTP: browsers accept it from loopback, and production refuses plain HTTP.
  const replies = createSessionReplies(platform, sessions, true);
  registerAuthRoutes(app, { platform, login: deps.login, account: deps.account, sessions, audit, secureCookies: true });
  registerAccountRoutes(app, deps.account);
  registerTwoFactorRoutes(app, deps.totp);
  registerPasskeyRoutes(app, deps.passkeys, replies);
  registerPeopleRoutes(app, deps.people);
  registerGroupRoutes(app, deps.groups);
  registerTenantRoutes(app, deps.tenantAdmin);
  registerConsentRoutes(app, deps.consent, deps.inScope);
  registerInvitationRoutes(app, deps.invitations, deps.invitationAcceptance, replies);
  registerEmailVerificationRoutes(app, deps.emailVerification);
  registerSsoRoutes(app, deps.sso, replies, platform.config.publicUrl);
}
