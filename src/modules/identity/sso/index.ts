// Single sign-on with OpenID Connect, per tenant: provider configuration for
// tenant admins and the sign-in flow for everyone.
import type { Platform } from '../../../platform/platform.ts';
import type { AuditPort } from '../audit-port.ts';
import type { SessionService } from '../sessions.ts';
import type { TenantService } from '../tenants.ts';
import { createSsoProviderAdmin } from './providers.ts';
import { createRelyingParty } from './relying-party.ts';
import { createSsoSignIn } from './sign-in.ts';

export interface SsoDeps {
  platform: Platform;
  audit: AuditPort;
  sessions: SessionService;
  tenants: TenantService;
}

export function createSsoService(deps: SsoDeps) {
  const rp = createRelyingParty({ env: deps.platform.config.env });
  return {
    providers: createSsoProviderAdmin(deps.platform, deps.audit),
    ...createSsoSignIn({ ...deps, rp }),
  };
}

export type SsoService = ReturnType<typeof createSsoService>;
