// Passkeys: registering and managing my own, and signing in with one (alone,
// or as the second factor after a password).
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { z } from 'zod';
import type { HttpServer } from '../../../platform/http/server.ts';
import { errorResponses } from '../../../platform/http/schemas.ts';
import type { PasskeyService } from '../passkeys.ts';
import { type SessionReplies, sessionView } from './auth.ts';

// Browsers send binary fields base64url-encoded (WebAuthn's toJSON()).
const b64url = (max: number) => z.string().max(max).regex(/^[A-Za-z0-9_-]*={0,2}$/, 'must be base64url');
// WebAuthn allows ids of up to 1023 bytes; discoverable credentials of every
// mainstream authenticator are far shorter, and the id travels in URLs and
// audit entries, so Haven takes up to 200 characters (150 bytes).
const credentialId = b64url(200).min(16);
const base = {
  id: credentialId,
  rawId: credentialId,
  type: z.literal('public-key'),
  authenticatorAttachment: z.enum(['platform', 'cross-platform']).optional(),
  clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
};

const registrationResponse = z.object({
  ...base,
  response: z.object({
    clientDataJSON: b64url(8192),
    attestationObject: b64url(65536),
    authenticatorData: b64url(65536).optional(),
    transports: z.array(z.string().max(32)).max(10).optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: b64url(8192).optional(),
  }),
});

const authenticationResponse = z.object({
  ...base,
  response: z.object({
    clientDataJSON: b64url(8192),
    authenticatorData: b64url(8192),
    signature: b64url(2048),
    userHandle: b64url(128).nullish().transform((v) => v ?? undefined),
  }),
});

const passkeyName = z.string().trim().min(1).max(100).refine((s) => s.isWellFormed(), 'is not valid text');
const passkeyView = z.object({
  id: z.string(), name: z.string(), deviceType: z.enum(['singleDevice', 'multiDevice']), backedUp: z.boolean(), transports: z.array(z.string()), createdAt: z.date(), lastUsedAt: z.date().nullable(),
});
const passkeyParams = z.object({ id: credentialId });
// The options handed to the browser, in WebAuthn's JSON forms: every field the
// library sets, so none is stripped (of extensions, only credProps is asked for).
const descriptor = z.object({ id: z.string(), type: z.string(), transports: z.array(z.string()).optional() });
const requestOptions = z.object({
  challenge: z.string(), timeout: z.number().optional(), rpId: z.string().optional(), allowCredentials: z.array(descriptor).optional(),
  userVerification: z.string().optional(), hints: z.array(z.string()).optional(),
}).describe('PublicKeyCredentialRequestOptionsJSON, for navigator.credentials.get()');
const creationOptions = z.object({
  rp: z.object({ name: z.string(), id: z.string().optional() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  challenge: z.string(),
  pubKeyCredParams: z.array(z.object({ alg: z.number(), type: z.string() })),
  timeout: z.number().optional(),
  excludeCredentials: z.array(descriptor).optional(),
  authenticatorSelection: z.object({
    authenticatorAttachment: z.string().optional(), requireResidentKey: z.boolean().optional(), residentKey: z.string().optional(), userVerification: z.string().optional(),
  }).optional(),
  hints: z.array(z.string()).optional(),
  attestation: z.string().optional(),
  attestationFormats: z.array(z.string()).optional(),
  extensions: z.object({ credProps: z.boolean().optional() }).optional(),
}).describe('PublicKeyCredentialCreationOptionsJSON, for navigator.credentials.create()');
const signInBody = z.object({ credential: authenticationResponse, tenant: z.string().max(100).optional() });

// Signing in must work before consent and enrolment: those are asked of the session it opens.
const signingIn = { consentExempt: true, enrollmentExempt: true } as const;
// A person who must enrol a second factor may register a passkey as that factor.
const enrolment = { enrollmentExempt: true } as const;

export function registerPasskeyRoutes(app: HttpServer, passkeys: PasskeyService, replies: SessionReplies): void {
  app.post('/api/v1/auth/passkey/options', {
    schema: { tags: ['auth'], summary: 'Start a passwordless sign-in: options for navigator.credentials.get()', response: { 200: requestOptions, ...errorResponses } },
    config: { ...signingIn, rateLimit: { max: 30, timeWindow: 60_000 } },
  }, async (req) => passkeys.loginOptions(req.ctx));

  app.post('/api/v1/auth/passkey/login', {
    schema: { tags: ['auth'], summary: 'Sign in with a passkey alone (it must verify the person)', body: signInBody, response: { 200: sessionView, ...errorResponses } },
    config: { ...signingIn, rateLimit: { max: 30, timeWindow: 60_000 } },
  }, async (req, reply) => replies.signedIn(reply, await passkeys.login(req.ctx, { ...req.body, credential: req.body.credential as AuthenticationResponseJSON })));

  app.post('/api/v1/auth/passkey/verify', {
    schema: {
      tags: ['auth'],
      summary: 'Finish a password sign-in that answered second_factor_required, with a passkey (details.passkeyOptions)',
      body: signInBody,
      response: { 200: sessionView, ...errorResponses },
    },
    config: { ...signingIn, rateLimit: { max: 30, timeWindow: 60_000 } },
  }, async (req, reply) => replies.signedIn(reply, await passkeys.completeSecondFactor(req.ctx, { ...req.body, credential: req.body.credential as AuthenticationResponseJSON })));

  app.get('/api/v1/account/passkeys', {
    schema: { tags: ['account'], summary: 'My passkeys', response: { 200: z.object({ items: z.array(passkeyView) }), ...errorResponses } },
    config: enrolment,
  }, async (req) => ({ items: await passkeys.list(req.ctx) }));

  app.post('/api/v1/account/passkeys/options', {
    schema: { tags: ['account'], summary: 'Start registering a passkey: options for navigator.credentials.create() (needs a recent re-authentication)', response: { 200: creationOptions, ...errorResponses } },
    config: enrolment,
  }, async (req) => passkeys.registrationOptions(req.ctx));

  app.post('/api/v1/account/passkeys', {
    schema: {
      tags: ['account'],
      summary: 'Register a passkey with the browser\'s answer to the options (needs a recent re-authentication)',
      body: z.object({ name: passkeyName.optional(), credential: registrationResponse }),
      response: { 201: passkeyView, ...errorResponses },
    },
    config: enrolment,
  }, async (req, reply) => reply.status(201).send(await passkeys.register(req.ctx, { name: req.body.name, credential: req.body.credential as RegistrationResponseJSON })));

  app.patch('/api/v1/account/passkeys/:id', {
    schema: { tags: ['account'], summary: 'Rename one of my passkeys', params: passkeyParams, body: z.object({ name: passkeyName }).strict(), response: { 200: passkeyView, ...errorResponses } },
  }, async (req) => passkeys.rename(req.ctx, req.params.id, req.body.name));

  app.delete('/api/v1/account/passkeys/:id', {
    schema: { tags: ['account'], summary: 'Remove one of my passkeys (needs a recent re-authentication)', params: passkeyParams, response: { 204: z.null(), ...errorResponses } },
  }, async (req, reply) => {
    await passkeys.remove(req.ctx, req.params.id);
    return reply.status(204).send(null);
  });
}
