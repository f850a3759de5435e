import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  // WebAuthn credentials (passkeys and security keys). People are
  // platform-wide, so their credentials are too: one passkey signs in to every
  // tenant the person belongs to, and this table is not tenant-owned.
  await sql`
    create table webauthn_credentials (
      -- the credential id the authenticator chose, base64url (Haven takes up to 150 bytes)
      id text primary key check (length(id) between 16 and 200),
      user_id uuid not null references users(id) on delete cascade,
      -- COSE-encoded public key; the private key never leaves the authenticator
      public_key bytea not null,
      -- the authenticator's signature counter; a value that does not grow means a cloned authenticator
      counter bigint not null default 0 check (counter >= 0),
      transports text[] not null default '{}',
      device_type text not null check (device_type in ('singleDevice', 'multiDevice')),
      backed_up boolean not null default false,
      name text not null check (length(name) between 1 and 100),
      created_at timestamptz not null default now(),
      last_used_at timestamptz
    )`.execute(db);
  await sql`create index webauthn_credentials_user on webauthn_credentials (user_id)`.execute(db);

  // Challenges handed to a browser, single use and short-lived. A 'second_factor'
  // row is also the pending login of a password sign-in waiting for its passkey;
  // 'login' rows (passwordless) belong to nobody until a passkey answers them.
  await sql`
    create table webauthn_challenges (
      id uuid primary key,
      user_id uuid references users(id) on delete cascade,
      challenge text not null unique,
      purpose text not null check (purpose in ('register', 'second_factor', 'login')),
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      used_at timestamptz,
      check ((purpose = 'login') = (user_id is null))
    )`.execute(db);
  await sql`create index webauthn_challenges_expiry on webauthn_challenges (expires_at)`.execute(db);
}
