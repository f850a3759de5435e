// The identity module: tenants, people, sessions, second factors, API tokens
// and consent, wired from its parts.
import type { HttpServer } from '../../platform/http/server.ts';
import type { Platform } from '../../platform/platform.ts';
import type { RequestContext } from './actor.ts';
import { createAccessService, registerIdentityResources } from './access-service.ts';
import { createAccountService } from './account.ts';
import type { AuditPort } from './audit-port.ts';
import { createConsentService } from './consent.ts';
import { createEmailVerification } from './email-verification.ts';
import { createGroupService, registerGroupResource } from './groups/service.ts';
import { renderEmail } from './emails.ts';
import { createInvitationAcceptance } from './invitation-accept.ts';
import { createInvitationService } from './invitations.ts';
import { createLogin } from './login.ts';
import { createOperatorService } from './operator.ts';
import { createPeopleService } from './people.ts';
import { loadCommonPasswords } from './passwords.ts';
import { createPasskeyService, relyingPartyFor } from './passkeys.ts';
import { createSessionService } from './sessions.ts';
import { createSsoService } from './sso/index.ts';
import { createTenantAdminService } from './tenant-admin.ts';
import { createTenantService } from './tenants.ts';
import { createLoginThrottle, defaultThrottleLimits } from './throttle.ts';
import { createTotpService } from './totp.ts';
import type { Tx } from '../../platform/db/database.ts';

export function createIdentityModule(platform: Platform, audit: AuditPort) {
  const { db, config, clock, mailer, log } = platform;
  const publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const sessions = createSessionService(db, clock, platform.pseudonymize);
  const throttle = createLoginThrottle(db.appPool, platform.pseudonymize, {
    ...defaultThrottleLimits,
    accountFailures: config.loginFailuresPerAccount,
    ipFailures: config.loginFailuresPerAddress,
  });
  const totp = createTotpService(platform, audit);
  const tenants = createTenantService(platform, audit);
  const consent = createConsentService(platform, audit);
  const access = createAccessService(db);
  registerIdentityResources(access);
  const people = createPeopleService(platform, audit, access);
  registerGroupResource(access);
  const groups = createGroupService(platform, audit, access);
  const tenantAdmin = createTenantAdminService(platform, audit);
  const sso = createSsoService({ platform, audit, sessions, tenants });
  const passkeys = createPasskeyService({ platform, sessions, audit, relyingParty: relyingPartyFor(publicUrl) });

  const mail = async (to: string, language: string, template: Parameters<typeof renderEmail>[0], vars: Parameters<typeof renderEmail>[2]) => {
    const rendered = renderEmail(template, language, vars as never);
    await mailer.send({ to, ...rendered, template });
  };

  const invitations = createInvitationService({ platform, audit, publicUrl, sendInvitation: (to, language, vars) => mail(to, language, 'invitation', vars) });
  const invitationAcceptance = createInvitationAcceptance({ platform, audit, sessions, throttle, secondFactor: totp.secondFactor });
  const operator = createOperatorService({ platform, audit, clearTotp: totp.clearTotp });
  const emailVerification = createEmailVerification({ platform, audit, publicUrl, sendVerification: (to, language, vars) => mail(to, language, 'verify_email', vars) });

  const account = createAccountService({
    platform, sessions, audit, secondFactor: totp.secondFactor,
    sendEmailVerification: (userId) => emailVerification.sendAfterChange(userId),
    sendPasswordReset: (user, token) => mail(user.email, user.preferred_language, 'password_reset', { resetUrl: `${publicUrl}/reset-password#token=${token}`, validMinutes: 10 }),
  });
  const login = createLogin({
    platform, sessions, throttle, audit, secondFactor: totp.secondFactor, passkeys,
    onAccountLocked: (user, until) => mail(user.email, user.preferred_language, 'account_locked', { lockedUntil: until, resetUrl: `${publicUrl}/reset-password` }).catch((err) => log.error({ err }, 'lock notice mail failed')),
  });

  const inScope = <T>(ctx: RequestContext, fn: (tx: Tx) => Promise<T>) => (ctx.tenantId ? db.withTenant(ctx.tenantId, fn) : db.withPlatform(fn));

  return {
    access, sessions, tenants, consent, people, groups, account, totp, login, tenantAdmin, passkeys, invitations, invitationAcceptance, emailVerification, operator, sso,

    async onStarted() {
      await consent.seedPlatformDocuments();
      // Loaded now so the first sign-up does not wait for the list.
      await loadCommonPasswords();
    },

    /** Loaded only by a node that serves HTTP (src/serve.ts). */
    async registerRoutes(app: HttpServer): Promise<void> {
      const { registerIdentityRoutes } = await import('./http.ts');
      registerIdentityRoutes(app, { platform, audit, sessions, login, account, totp, passkeys, people, groups, tenantAdmin, consent, inScope, invitations, invitationAcceptance, emailVerification, sso });
    },
  };
}

export type IdentityModule = ReturnType<typeof createIdentityModule>;
