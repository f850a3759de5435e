// Invitations and email verification end to end: a real Haven sending through
// a real SMTP server (smtp-server on loopback), messages read off the wire.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { generate } from 'otplib';
import { SMTPServer } from 'smtp-server';
import { ApiClient, expectError } from './helpers/client.ts';
import { startTestHaven, type TestHaven } from './helpers/haven.ts';
import { type ParsedMail, parseMail } from './helpers/mime.ts';
import { waitFor } from './helpers/process.ts';

const PASSWORD = 'correct horse battery staple';

/** An SMTP server that keeps what it receives; hold() keeps messages from arriving until released. */
async function startMailbox() {
  const received: { to: string[]; mail: ParsedMail }[] = [];
  let gate: Promise<void> | undefined;
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false, closeTimeout: 1000,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        await gate;
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), mail: parseMail(Buffer.concat(chunks).toString('utf8')) });
        callback();
      });
    },
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => { release = resolve; });
      return () => { gate = undefined; release(); };
    },
    /** The next message to this address (any case) not read before. */
    async next(to: string): Promise<ParsedMail> {
      const found = await waitFor(async () => received.find((m) => m.to.some((t) => t.toLowerCase() === to.toLowerCase())), 10_000, `mail to ${to}`);
      received.splice(received.indexOf(found), 1);
      return found.mail;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const tokenIn = (mail: ParsedMail, path: string) => {
  const m = new RegExp(`/${path}#token=((?:inv|vfy)_[A-Za-z0-9_-]+)`).exec(mail.text ?? '');
  assert.ok(m, `a ${path} link in: ${mail.text}`);
  return m[1]!;
};

describe('invitations and email verification', () => {
  let mailbox: Awaited<ReturnType<typeof startMailbox>>;
  let haven: TestHaven;
  let acmeId: string;
  let betaId: string;
  let owner: ApiClient;
  let ips = 0;
  /** Each client comes from its own address, so per-address limits stay out of the way. */
  const client = () => Object.assign(new ApiClient(haven.url), { ip: `10.9.${Math.floor(++ips / 250)}.${ips % 250}` });

  async function settleConsents(api: ApiClient) {
    const docs = await api.get('/api/v1/consent');
    for (const d of docs.body.items) if (d.decision !== 'accepted') assert.equal((await api.post(`/api/v1/consent/${d.id}`, { decision: 'accepted' })).status, 200);
  }

  /** Accepts with the given body; on success the client holds the new session. */
  async function accept(api: ApiClient, body: Record<string, unknown>) {
    const res = await api.post('/api/v1/invitations/accept', body);
    if (res.status === 200) {
      api.csrf = res.body.csrfToken;
      await settleConsents(api);
    }
    return res;
  }

  async function invite(by: ApiClient, email: string, role: string, language?: string): Promise<string> {
    const res = await by.post('/api/v1/invitations', { email, role, ...(language ? { language } : {}) });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return tokenIn(await mailbox.next(email), 'invite');
  }

  const auditActions = async (tenantId: string) =>
    (await haven.platform.db.ownerPool.query('select action, outcome, actor_type from audit_events where tenant_id = $1 order by id', [tenantId])).rows;

  before(async () => {
    mailbox = await startMailbox();
    haven = await startTestHaven({ env: { HAVEN_SMTP_URL: mailbox.url, HAVEN_TRUST_PROXY: '127.0.0.1' } });
    acmeId = (await haven.modules.setup({ tenantName: 'Acme', adminEmail: 'owner@acme.test', adminPassword: PASSWORD })).tenant.id;
    betaId = (await haven.modules.setup({ tenantName: 'Beta', adminEmail: 'bea@beta.test', adminPassword: PASSWORD })).tenant.id;
    owner = client();
    await owner.signIn('owner@acme.test', PASSWORD);
  });
  after(async () => {
    await haven.stop();
    await mailbox.close();
  });

  test('a new person invited in Swedish accepts, is signed in with the role, and their address counts as verified', async () => {
    const created = await owner.post('/api/v1/invitations', { email: 'Sven@Acme.test', role: 'editor', language: 'sv' });
    assert.equal(created.status, 201);
    assert.equal(created.body.status, 'pending');
    assert.ok(new Date(created.body.expiresAt).getTime() - Date.now() > 6.9 * 86400_000, 'valid for seven days');

    const mail = await mailbox.next('Sven@Acme.test');
    assert.match(mail.headers.get('subject')!, /har bjudit in dig till Acme/);
    assert.match(mail.html!, /<html lang="sv">/);
    const token = tokenIn(mail, 'invite');

    const invitee = client();
    const preview = await invitee.get(`/api/v1/invitations/lookup?token=${token}`);
    assert.equal(preview.status, 200);
    assert.deepEqual(preview.body, { tenant: { name: 'Acme', slug: 'acme' }, email: 'S***@Acme.test', role: 'editor', expiresAt: created.body.expiresAt, accountExists: false });

    expectError(await invitee.post('/api/v1/invitations/accept', { token }), 400, 'password_required');
    expectError(await invitee.post('/api/v1/invitations/accept', { token, password: 'short' }), 400, 'password_too_short');
    const res = await accept(invitee, { token, password: PASSWORD, username: 'sven', displayName: 'Sven S' });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.match(res.headers.getSetCookie().join(), /haven_session=.+HttpOnly/i);
    assert.deepEqual(res.body.tenant, { id: acmeId, slug: 'acme', name: 'Acme', role: 'editor' });
    assert.equal(res.body.user.language, 'sv', 'the account speaks the invitation\'s language');

    const me = await invitee.get('/api/v1/account');
    assert.equal(me.status, 200);
    assert.equal(me.body.emailVerified, true);
    assert.equal(me.body.username, 'sven');
    const members = await owner.get('/api/v1/users');
    assert.equal(members.body.items.find((m: any) => m.email === 'Sven@Acme.test').role, 'editor');

    // Single use.
    expectError(await client().post('/api/v1/invitations/accept', { token, password: PASSWORD }), 410, 'invitation_used');
    expectError(await client().get(`/api/v1/invitations/lookup?token=${token}`), 410, 'invitation_used');
    const listed = await owner.get('/api/v1/invitations');
    assert.equal(listed.body.items.find((i: any) => i.id === created.body.id).status, 'accepted');
    const actions = await auditActions(acmeId);
    assert.ok(actions.some((a) => a.action === 'invitation.create'));
    assert.ok(actions.some((a) => a.action === 'invitation.accept' && a.outcome === 'success' && a.actor_type === 'user'));
  });

  test('inviting an address with an account answers exactly as for one without, before any mail is sent', async () => {
    const release = mailbox.hold();
    let known, unknown;
    try {
      const before = mailbox.received.length;
      // The mail server holds every message: an answer that waited for the mail would not come.
      const promptly = <T>(p: Promise<T>) => Promise.race([p, setTimeout(5000).then(() => assert.fail('the answer waited for the mail server'))]);
      known = await promptly(owner.post('/api/v1/invitations', { email: 'bea@beta.test', role: 'viewer' }));
      unknown = await promptly(owner.post('/api/v1/invitations', { email: 'nobody@acme.test', role: 'viewer' }));
      assert.equal(mailbox.received.length, before, 'answered while the mail server still holds the messages');
    } finally {
      release();
    }
    assert.equal(known.status, 201);
    assert.equal(unknown.status, 201);
    const comparable = ({ id, email, createdAt, expiresAt, ...rest }: Record<string, unknown>) => (void [id, email, createdAt, expiresAt], rest);
    assert.deepEqual(comparable(known.body), comparable(unknown.body));
    assert.deepEqual(Object.keys(known.body), Object.keys(unknown.body));
    // Both mails are the same invitation.
    const [a, b] = [await mailbox.next('bea@beta.test'), await mailbox.next('nobody@acme.test')];
    assert.equal(a.headers.get('subject'), b.headers.get('subject'));
    assert.match(a.text!, /invited you to join Acme/);
    tokenIn(a, 'invite');
  });

  test('an existing account joins with its password, or because it is signed in; a member keeps their role', async () => {
    // bea@beta.test has an account (owner of Beta) and an open invitation from the test above: resend it to get a fresh link.
    const open = (await owner.get('/api/v1/invitations')).body.items.find((i: any) => i.email === 'bea@beta.test' && i.status === 'pending');
    assert.equal((await owner.post(`/api/v1/invitations/${open.id}/resend`)).status, 200);
    const fresh = tokenIn(await mailbox.next('bea@beta.test'), 'invite');

    const bea = client();
    assert.equal((await bea.get(`/api/v1/invitations/lookup?token=${fresh}`)).body.accountExists, true);
    expectError(await bea.post('/api/v1/invitations/accept', { token: fresh }), 401, 'sign_in_required');
    expectError(await bea.post('/api/v1/invitations/accept', { token: fresh, password: 'not the password at all' }), 401, 'invalid_credentials');
    const joined = await accept(bea, { token: fresh, password: PASSWORD, username: 'ignored' });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.tenant.id, acmeId);
    assert.equal(joined.body.tenant.role, 'viewer');
    assert.deepEqual(joined.body.tenants.map((t: any) => t.slug).sort(), ['acme', 'beta']);

    // Signed in to Beta as its owner, Bea invites Acme's owner, who accepts from his own session.
    const beaInBeta = client();
    await beaInBeta.signIn('bea@beta.test', PASSWORD, { tenant: 'beta' });
    const ownerToken = await invite(beaInBeta, 'owner@acme.test', 'admin');
    const ownerSession = client();
    await ownerSession.signIn('owner@acme.test', PASSWORD);
    const res = await accept(ownerSession, { token: ownerToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual([res.body.tenant.id, res.body.tenant.role], [betaId, 'admin']);

    // An address that already is a member gets an ordinary invitation; accepting changes no role.
    const again = await invite(owner, 'bea@beta.test', 'admin');
    const back = await accept(bea, { token: again });
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.tenant.role, 'viewer');
    assert.ok((await auditActions(acmeId)).some((a) => a.action === 'invitation.accept' && a.outcome === 'failed'), 'the wrong password is on record');
  });

  test('a password in the body does not skip an account\'s second factor; an account without credentials is claimed', async () => {
    const beaInBeta = client();
    await beaInBeta.signIn('bea@beta.test', PASSWORD, { tenant: 'beta' });
    const tina = client();
    assert.equal((await accept(tina, { token: await invite(beaInBeta, 'tina@beta.test', 'editor') })).status, 400, 'a new account needs a password');
    assert.equal((await accept(tina, { token: await invite(beaInBeta, 'tina2@beta.test', 'editor'), password: PASSWORD })).status, 200);
    const { secret } = (await tina.post('/api/v1/account/totp')).body;
    assert.equal((await tina.post('/api/v1/account/totp/confirm', { code: await generate({ secret }) })).status, 200);

    const token = await invite(owner, 'tina2@beta.test', 'viewer');
    expectError(await client().post('/api/v1/invitations/accept', { token, password: PASSWORD }), 401, 'second_factor_required');
    expectError(await client().post('/api/v1/invitations/accept', { token, password: PASSWORD, totp: '000000' }), 401, 'invalid_second_factor');
    // The confirming code's step is spent; the next step's code is within the accepted window.
    const joined = await accept(client(), { token, password: PASSWORD, totp: await generate({ secret, epoch: Math.floor(Date.now() / 1000) + 30 }) });
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal(joined.body.tenant.id, acmeId);

    // Added by an admin without a password, the account has nothing to sign in with: the link lets its mailbox set one.
    assert.equal((await beaInBeta.post('/api/v1/users', { email: 'nopass@beta.test', role: 'viewer' })).status, 201);
    const claimToken = await invite(owner, 'nopass@beta.test', 'editor');
    assert.equal((await client().get(`/api/v1/invitations/lookup?token=${claimToken}`)).body.accountExists, false);
    const claimed = await accept(client(), { token: claimToken, password: PASSWORD });
    assert.equal(claimed.status, 200, JSON.stringify(claimed.body));
    assert.deepEqual(claimed.body.tenants.map((t: any) => `${t.slug}:${t.role}`).sort(), ['acme:editor', 'beta:viewer']);
    assert.equal((await client().login('nopass@beta.test', PASSWORD, { tenant: 'beta' })).status, 200);
  });

  test('revoked, expired and unknown links are refused, each with its own clear error', async () => {
    const created = await owner.post('/api/v1/invitations', { email: 'late@acme.test', role: 'viewer' });
    const token = tokenIn(await mailbox.next('late@acme.test'), 'invite');
    expectError(await owner.post('/api/v1/invitations', { email: 'LATE@acme.test', role: 'editor' }), 409, 'invitation_exists');

    await haven.platform.db.ownerPool.query(`update invitations set expires_at = now() - interval '1 minute' where id = $1`, [created.body.id]);
    expectError(await client().get(`/api/v1/invitations/lookup?token=${token}`), 410, 'invitation_expired');
    expectError(await client().post('/api/v1/invitations/accept', { token, password: PASSWORD }), 410, 'invitation_expired');
    assert.equal((await owner.get('/api/v1/invitations')).body.items.find((i: any) => i.id === created.body.id).status, 'expired');

    // Resending renews it with a new link; the old one is gone for good.
    const resent = await owner.post(`/api/v1/invitations/${created.body.id}/resend`);
    assert.equal(resent.body.status, 'pending');
    const renewed = tokenIn(await mailbox.next('late@acme.test'), 'invite');
    expectError(await client().get(`/api/v1/invitations/lookup?token=${token}`), 404, 'invitation_not_found');
    assert.equal((await client().get(`/api/v1/invitations/lookup?token=${renewed}`)).status, 200);

    assert.equal((await owner.delete(`/api/v1/invitations/${created.body.id}`)).status, 204);
    expectError(await client().get(`/api/v1/invitations/lookup?token=${renewed}`), 410, 'invitation_revoked');
    expectError(await client().post('/api/v1/invitations/accept', { token: renewed, password: PASSWORD }), 410, 'invitation_revoked');
    expectError(await owner.delete(`/api/v1/invitations/${created.body.id}`), 409, 'invitation_closed');
    expectError(await owner.post(`/api/v1/invitations/${created.body.id}/resend`), 409, 'invitation_closed');

    expectError(await client().get('/api/v1/invitations/lookup?token=inv_forged'), 404, 'invitation_not_found');
    expectError(await client().post('/api/v1/invitations/accept', { token: 'rst_not-an-invitation', password: PASSWORD }), 404, 'invitation_not_found');
    const actions = (await auditActions(acmeId)).map((a) => a.action);
    assert.ok(actions.includes('invitation.resend') && actions.includes('invitation.revoke'));
  });

  test('only owners invite owners; viewers and strangers cannot invite; other tenants\' invitations are out of reach', async () => {
    const adminToken = await invite(owner, 'ada@acme.test', 'admin');
    const admin = client();
    assert.equal((await accept(admin, { token: adminToken, password: PASSWORD })).status, 200);
    expectError(await admin.post('/api/v1/invitations', { email: 'boss@acme.test', role: 'owner' }), 403, 'forbidden');
    assert.equal((await admin.post('/api/v1/invitations', { email: 'helper@acme.test', role: 'editor' })).status, 201);
    await mailbox.next('helper@acme.test');
    assert.equal((await owner.post('/api/v1/invitations', { email: 'boss@acme.test', role: 'owner' })).status, 201);
    const ownerInvite = (await admin.get('/api/v1/invitations')).body.items.find((i: any) => i.email === 'boss@acme.test');
    expectError(await admin.delete(`/api/v1/invitations/${ownerInvite.id}`), 403, 'forbidden');

    const viewer = client();
    await viewer.signIn('bea@beta.test', PASSWORD, { tenant: 'acme' });
    expectError(await viewer.post('/api/v1/invitations', { email: 'friend@acme.test', role: 'viewer' }), 403, 'forbidden');
    expectError(await viewer.get('/api/v1/invitations'), 403, 'forbidden');
    expectError(await client().post('/api/v1/invitations', { email: 'friend@acme.test', role: 'viewer' }), 401, 'unauthenticated');

    const beaInBeta = client();
    await beaInBeta.signIn('bea@beta.test', PASSWORD, { tenant: 'beta' });
    expectError(await beaInBeta.delete(`/api/v1/invitations/${ownerInvite.id}`), 404, 'invitation_not_found');
    expectError(await owner.post('/api/v1/invitations', { email: 'not-an-address', role: 'viewer' }), 400, 'invalid_request');
  });

  test('a tenant that accepts only its own domains refuses other addresses when inviting and when accepting', async () => {
    const token = await invite(owner, 'outsider@elsewhere.test', 'viewer');
    assert.equal((await owner.patch('/api/v1/tenant', { settings: { allowedEmailDomains: ['acme.test'] } })).status, 200);
    try {
      expectError(await owner.post('/api/v1/invitations', { email: 'other@elsewhere.test', role: 'viewer' }), 400, 'email_domain_not_allowed');
      expectError(await client().post('/api/v1/invitations/accept', { token, password: PASSWORD }), 400, 'email_domain_not_allowed');
      assert.equal((await owner.post('/api/v1/invitations', { email: 'insider@acme.test', role: 'viewer' })).status, 201);
      await mailbox.next('insider@acme.test');
    } finally {
      assert.equal((await owner.patch('/api/v1/tenant', { settings: { allowedEmailDomains: [] } })).status, 200);
    }
  });

  test('email verification: a change sends a link in the person\'s language, links are single use and bound to the address', async () => {
    const sven = client();
    await sven.signIn('Sven@Acme.test', PASSWORD);
    expectError(await sven.post('/api/v1/account/email/verify'), 409, 'email_already_verified');
    assert.equal((await sven.post('/api/v1/account/email', { email: 'sven.new@acme.test' })).status, 204);
    const first = await mailbox.next('sven.new@acme.test');
    assert.equal(first.headers.get('subject'), 'Bekräfta din e-postadress');
    const firstToken = tokenIn(first, 'verify-email');
    assert.equal((await sven.get('/api/v1/account')).body.emailVerified, false);

    assert.equal((await sven.post('/api/v1/account/email/verify')).status, 202);
    const secondToken = tokenIn(await mailbox.next('sven.new@acme.test'), 'verify-email');

    // The link works from a mail client with no session.
    assert.equal((await client().post('/api/v1/account/email/confirm', { token: firstToken })).status, 204);
    assert.equal((await sven.get('/api/v1/account')).body.emailVerified, true);
    expectError(await client().post('/api/v1/account/email/confirm', { token: firstToken }), 400, 'invalid_verification_token');

    // A link for an address the account no longer has verifies nothing.
    assert.equal((await sven.post('/api/v1/account/email', { email: 'sven3@acme.test' })).status, 204);
    const thirdToken = tokenIn(await mailbox.next('sven3@acme.test'), 'verify-email');
    expectError(await client().post('/api/v1/account/email/confirm', { token: secondToken }), 400, 'invalid_verification_token');
    assert.equal((await client().post('/api/v1/account/email/confirm', { token: thirdToken })).status, 204);
    expectError(await client().post('/api/v1/account/email/confirm', { token: 'vfy_forged' }), 400, 'invalid_verification_token');
    expectError(await client().post('/api/v1/account/email/verify'), 401, 'unauthenticated');
    const platformActions = (await haven.platform.db.ownerPool.query(`select action from audit_events where action like 'account.email.%'`)).rows.map((r) => r.action);
    assert.ok(platformActions.includes('account.email.verify') && platformActions.includes('account.email.verify_request'));
  });

  test('asking for verification links is throttled per person', async () => {
    const helperToken = await invite(owner, 'throttle@acme.test', 'viewer');
    const person = client();
    assert.equal((await accept(person, { token: helperToken, password: PASSWORD })).status, 200);
    assert.equal((await person.post('/api/v1/account/email', { email: 'throttle2@acme.test' })).status, 204);
    for (let i = 0; i < 5; i++) assert.equal((await person.post('/api/v1/account/email/verify')).status, 202, `request ${i + 1}`);
    const refused = await person.post('/api/v1/account/email/verify');
    expectError(refused, 429, 'too_many_requests');
    assert.ok(refused.body.error.details.retryAfterSeconds > 0);
  });
});
