// Haven as an OpenID Connect relying party, on openid-client: the
// authorization request (code flow, PKCE S256, state, nonce) and the code
// exchange, whose ID token the library validates — issuer, audience, expiry,
// nonce and, because non-repudiation checks are on, the signature against the
// IdP's published keys. Its errors become refusals with a reason.
import type * as OpenIdClient from 'openid-client';
import { type Claims, isLoopbackHttp } from './presets.ts';
import { deniedByProvider, providerFailed, providerProblem, type SsoRefusal, tokenInvalid } from './refusals.ts';

export const SCOPES = 'openid email profile';
/** Discovery documents and signing keys are re-read at least this often. */
const CONFIG_TTL_MS = 60 * 60_000;
const MAX_CACHED = 500;

type Oidc = typeof OpenIdClient;
// openid-client (with oauth4webapi and jose) is loaded when the first sign-in
// starts, not at start-up: many installations never configure SSO.
let loaded: Promise<Oidc> | undefined;
const openIdClient = () => (loaded ??= import('openid-client'));

/** What the relying party needs of a configured provider. */
export interface IdpClient {
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Changes whenever the provider's settings change (invalidates the cached discovery). */
  version: number;
}

export interface AttemptChecks { state: string; nonce: string; codeVerifier: string }

/** Fresh state, nonce and PKCE verifier for one sign-in attempt. */
export async function newAttemptChecks(): Promise<AttemptChecks> {
  const oidc = await openIdClient();
  return { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
}

export interface RelyingParty {
  authorizationUrl(idp: IdpClient, redirectUri: string, checks: AttemptChecks, hints: Record<string, string>): Promise<URL>;
  /** Exchanges the code from the callback URL; returns the validated ID token claims (plus UserInfo for claims it lacks). */
  complete(idp: IdpClient, callbackUrl: URL, checks: AttemptChecks, wanted: string[]): Promise<Claims>;
}

export function createRelyingParty(opts: { env: string; timeoutSeconds?: number }): RelyingParty {
  // Per process and only a cache: any node can rebuild it from the provider row.
  const cache = new Map<string, { version: number; expires: number; config: Promise<OpenIdClient.Configuration> }>();

  function configuration(oidc: Oidc, idp: IdpClient): Promise<OpenIdClient.Configuration> {
    const hit = cache.get(idp.id);
    if (hit && hit.version === idp.version && hit.expires > Date.now()) return hit.config;
    const execute = [oidc.enableNonRepudiationChecks];
    if (opts.env !== 'production' && isLoopbackHttp(idp.issuer)) execute.push(oidc.allowInsecureRequests);
    const config = oidc.discovery(new URL(idp.issuer), idp.clientId, idp.clientSecret, undefined, { execute, timeout: opts.timeoutSeconds ?? 10 }).catch((err) => {
      if (cache.get(idp.id) === entry) cache.delete(idp.id);
      const refusal = refusalFor(oidc, err);
      throw providerFailed(refusal?.code === 'sso_provider_error' ? refusal.reason : 'discovery_failed');
    });
    const entry = { version: idp.version, expires: Date.now() + CONFIG_TTL_MS, config };
    cache.delete(idp.id);
    cache.set(idp.id, entry);
    if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value!);
    return config;
  }

  return {
    async authorizationUrl(idp, redirectUri, checks, hints) {
      const oidc = await openIdClient();
      const config = await configuration(oidc, idp);
      return oidc.buildAuthorizationUrl(config, {
        ...hints,
        redirect_uri: redirectUri,
        response_type: 'code',
        scope: SCOPES,
        state: checks.state,
        nonce: checks.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier),
        code_challenge_method: 'S256',
      });
    },

    async complete(idp, callbackUrl, checks, wanted) {
      const oidc = await openIdClient();
      const config = await configuration(oidc, idp);
      try {
        const tokens = await oidc.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.codeVerifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const claims: Claims = { ...tokens.claims()! };
        // Some IdPs keep profile claims out of the ID token in the code flow; UserInfo has them.
        if (!wanted.some((c) => claims[c] === undefined) || !config.serverMetadata().userinfo_endpoint) return claims;
        const info: Claims = { ...(await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub))) };
        const merged = { ...info, ...claims };
        // email and email_verified describe one address: never pair one source's address with the other's verdict.
        if (claims.email === undefined) Object.assign(merged, { email: info.email, email_verified: info.email_verified });
        return merged;
      } catch (err) {
        throw refusalFor(oidc, err) ?? err;
      }
    },
  };
}

type Inner = { message?: string; cause?: { claim?: string; attribute?: string } } | undefined;

const CLAIM_REASONS: Record<string, string> = { aud: 'audience_mismatch', iss: 'issuer_mismatch', nonce: 'nonce_mismatch', azp: 'authorized_party_mismatch' };
const TIME_REASONS: Record<string, string> = { exp: 'expired', nbf: 'not_yet_valid', iat: 'issued_at_invalid', auth_time: 'auth_time_invalid' };

/** The refusal an openid-client error stands for; undefined for errors that are Haven's own. */
export function refusalFor(oidc: Oidc, err: unknown): SsoRefusal | undefined {
  if (err instanceof oidc.AuthorizationResponseError) return deniedByProvider(err.error);
  if (err instanceof oidc.ResponseBodyError) return providerProblem(err.error);
  if (err instanceof oidc.ClientError) {
    const inner = err.cause as Inner;
    switch (err.code) {
      case 'OAUTH_JWT_CLAIM_COMPARISON_FAILED':
        return tokenInvalid(CLAIM_REASONS[inner?.cause?.claim ?? ''] ?? 'claim_mismatch');
      case 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED':
        return tokenInvalid(TIME_REASONS[inner?.cause?.claim ?? ''] ?? 'timestamp_invalid');
      case 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED':
        return tokenInvalid(inner?.cause?.attribute === 'iss' || inner?.cause?.attribute === 'issuer' ? 'issuer_mismatch' : 'response_mismatch');
      case 'OAUTH_INVALID_RESPONSE':
        return tokenInvalid(/signature/i.test(inner?.message ?? '') ? 'signature_invalid' : 'response_invalid');
      case 'OAUTH_KEY_SELECTION_FAILED':
        return tokenInvalid('signing_key_unknown');
      case 'OAUTH_PARSE_ERROR':
        return tokenInvalid('response_unparsable');
      case 'OAUTH_TIMEOUT':
      case 'OAUTH_ABORT':
        return providerFailed('provider_timeout');
      case 'OAUTH_RESPONSE_IS_NOT_CONFORM':
      case 'OAUTH_RESPONSE_IS_NOT_JSON':
        return providerFailed('provider_response_invalid');
      case 'OAUTH_HTTP_REQUEST_FORBIDDEN':
        return providerFailed('insecure_issuer');
      default:
        return tokenInvalid('validation_failed');
    }
  }
  // undici's network failure (refused, DNS, reset).
  if (err instanceof TypeError && err.message === 'fetch failed') return providerFailed('provider_unreachable');
  return undefined;
}
