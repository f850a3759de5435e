// A software WebAuthn authenticator plus the browser's part of the protocol:
// ES256 (P-256) credentials made with node:crypto, 'none' attestation, signed
// assertions over authenticatorData || SHA-256(clientDataJSON). It speaks the
// real protocol to Haven, so tests need no browser; overrides let a test play
// a phishing page (another origin or RP ID) or a cloned authenticator.
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

// Authenticator data flags (WebAuthn §6.1).
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

/** Just enough CBOR (RFC 8949) for a COSE key and an attestation object: integers, byte and text strings, maps. */
type Cbor = number | string | Uint8Array | Map<number | string, Cbor>;
function cbor(value: Cbor): Buffer {
  const head = (major: number, n: number) => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) { const b = Buffer.alloc(3); b[0] = (major << 5) | 25; b.writeUInt16BE(n, 1); return b; }
    const b = Buffer.alloc(5); b[0] = (major << 5) | 26; b.writeUInt32BE(n, 1); return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') { const s = Buffer.from(value, 'utf8'); return Buffer.concat([head(3, s.length), s]); }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

interface Credential {
  id: Buffer;
  rpId: string;
  userHandle: string;
  privateKey: KeyObject;
  cosePublicKey: Buffer;
  signCount: number;
}

export interface Overrides {
  /** The page the browser says it is on (a phishing site's origin). */
  origin?: string;
  /** The RP ID the authenticator scopes to (a phishing site's domain). */
  rpId?: string;
  /** The counter to sign with instead of the next one (a cloned authenticator). */
  signCount?: number;
}

interface CreationOptions { challenge: string; rp: { id?: string }; user: { id: string } }
interface RequestOptions { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }

export class SoftwareAuthenticator {
  readonly origin: string;
  readonly credentials: Credential[] = [];

  constructor(origin: string) {
    this.origin = origin;
  }

  /** navigator.credentials.create(): a new ES256 credential, answered as RegistrationResponseJSON. */
  create(options: CreationOptions, overrides: Overrides = {}) {
    const rpId = overrides.rpId ?? options.rp.id ?? new URL(this.origin).hostname;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    const cosePublicKey = cbor(new Map<number, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
    const credential: Credential = { id: randomBytes(32), rpId, userHandle: options.user.id, privateKey, cosePublicKey, signCount: 0 };

    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(credential.id.length);
    const attestedCredentialData = Buffer.concat([Buffer.alloc(16) /* AAGUID: none */, idLength, credential.id, cosePublicKey]);
    const authData = Buffer.concat([this.#authDataHead(rpId, UP | UV | AT, credential.signCount), attestedCredentialData]);
    const attestationObject = cbor(new Map<string, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    const clientDataJSON = this.#clientData('webauthn.create', options.challenge, overrides.origin);
    this.credentials.push(credential);
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key' as const,
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), attestationObject: b64url(attestationObject), transports: ['internal'] },
    };
  }

  /** navigator.credentials.get(): an assertion by an allowed (or, with none listed, any discoverable) credential of the RP. */
  get(options: RequestOptions, overrides: Overrides = {}) {
    const rpId = overrides.rpId ?? options.rpId ?? new URL(this.origin).hostname;
    const allowed = options.allowCredentials?.map((c) => c.id) ?? [];
    const credential = this.credentials.find((c) => (allowed.length === 0 ? c.rpId === (options.rpId ?? rpId) : allowed.includes(b64url(c.id))));
    if (!credential) throw new Error('the authenticator holds no credential for these options');
    credential.signCount = overrides.signCount ?? credential.signCount + 1;
    const authenticatorData = this.#authDataHead(rpId, UP | UV, credential.signCount);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge, overrides.origin);
    const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), credential.privateKey); // DER, as WebAuthn wants for ES256
    return {
      id: b64url(credential.id),
      rawId: b64url(credential.id),
      type: 'public-key' as const,
      authenticatorAttachment: 'platform' as const,
      clientExtensionResults: {},
      response: { clientDataJSON: b64url(clientDataJSON), authenticatorData: b64url(authenticatorData), signature: b64url(signature), userHandle: credential.userHandle },
    };
  }

  #authDataHead(rpId: string, flags: number, signCount: number): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(signCount);
    return Buffer.concat([sha256(rpId), Buffer.from([flags]), count]);
  }

  #clientData(type: string, challenge: string, origin = this.origin): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }
}
