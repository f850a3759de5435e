// Outgoing mail against a real SMTP server (smtp-server on loopback), the
// outbox fallback on a temporary directory, and the identity templates in
// every language.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { SMTPServer } from 'smtp-server';
import { AppError } from '../src/platform/errors.ts';
import { createMailer, type Mailer } from '../src/platform/mail.ts';
import { emailLanguage, emailTemplates, escapeHtml, languages, renderEmail, type EmailVars } from '../src/modules/identity/emails.ts';
import { parseMail } from './helpers/mime.ts';

const FROM = 'Haven <no-reply@haven.test>';
const XSS = '<script>alert(1)</script>';

/** A logger that does NOT scrub addresses, so the mailer itself is what keeps them out. */
function capturingLogger() {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }) };
}

// --- templates ---

const at = new Date(Date.UTC(2026, 2, 3, 14, 5));
const sampleVars: { [T in keyof EmailVars]: EmailVars[T] } = {
  invitation: { inviterName: XSS, tenantName: 'Smith & "Sons"', acceptUrl: 'https://haven.test/invite?token=a1&lang=sv', expiresAt: at },
  verify_email: { verifyUrl: 'https://haven.test/verify?token=v1&x=<y>' },
  password_reset: { resetUrl: 'https://haven.test/reset?token=r1&u=2', validMinutes: 10 },
  account_locked: { lockedUntil: at, resetUrl: 'https://haven.test/forgot?a=1&b=2' },
  new_login: { at, browser: `Firefox 140 on Linux ${XSS}`, network: 'ip_Q2x9aB7vT1mN0pZe' },
  dsar_code: { code: '048213', validMinutes: 10 },
  export_ready: { downloadUrl: 'https://haven.test/export/e1?sig=abc&once=1', expiresAt: at },
};
// What each language writes for 3 March 2026 and for ten minutes.
const localDate = { en: 'March 3, 2026', sv: '3 mars 2026', fi: '3. maaliskuuta 2026', de: '3. März 2026' };
const localMinutes = { en: '10 minutes', sv: '10 minuter', fi: '10 minuuttia', de: '10 Minuten' };

describe('identity email templates', () => {
  for (const template of emailTemplates) {
    for (const lang of Object.keys(languages) as (keyof typeof languages)[]) {
      test(`${template} in ${lang} carries every variable, escaped in HTML only`, () => {
        const vars = sampleVars[template];
        const email = renderEmail(template, lang, vars);
        assert.ok(email.subject.length > 0 && !/\n/.test(email.subject));
        for (const value of Object.values(vars)) {
          if (value instanceof Date) {
            assert.ok(email.text.includes(localDate[lang]), `text names the date as ${localDate[lang]}`);
            assert.ok(email.html.includes(escapeHtml(localDate[lang])));
            assert.match(email.text, /UTC/);
          } else if (typeof value === 'number') {
            assert.ok(email.text.includes(localMinutes[lang]), `text says ${localMinutes[lang]}`);
          } else {
            assert.ok(email.text.includes(value), `text holds ${value} as is`);
            assert.ok(email.html.includes(escapeHtml(value)), `html holds ${value} escaped`);
          }
        }
        assert.doesNotMatch(email.html, /<script|<img|<link|<style|@import|url\(/i);
        assert.match(email.html, new RegExp(`^<!doctype html>\\n<html lang="${lang}">`));
        if (lang !== 'en') assert.notEqual(email.text, renderEmail(template, 'en', vars).text, 'translated, not English');
      });
    }
  }

  test('the password reset says an unasked-for mail changes nothing', () => {
    const says = { en: /your password is unchanged/, sv: /ditt lösenord är oförändrat/, fi: /salasanaasi ei ole muutettu/, de: /Ihr Passwort bleibt unverändert/ };
    for (const [lang, pattern] of Object.entries(says)) assert.match(renderEmail('password_reset', lang, sampleVars.password_reset).text, pattern);
  });

  test('language tags pick the base language; unknown ones fall back to English', () => {
    assert.equal(emailLanguage('sv-SE'), 'sv');
    assert.equal(emailLanguage('DE_at'), 'de');
    assert.equal(emailLanguage('pt-BR'), 'en');
    assert.equal(emailLanguage('__proto__'), 'en');
    assert.equal(emailLanguage(undefined), 'en');
    assert.equal(renderEmail('dsar_code', 'xx', sampleVars.dsar_code).subject, 'Your verification code');
  });

  test('a line break in a name cannot add a header line, and only web links are sent', () => {
    const email = renderEmail('invitation', 'en', { ...sampleVars.invitation, inviterName: 'Eve\r\nBcc: victim@example.org' });
    assert.equal(email.subject, `Eve Bcc: victim@example.org invited you to ${sampleVars.invitation.tenantName}`);
    assert.throws(() => renderEmail('verify_email', 'en', { verifyUrl: 'javascript:alert(1)' }), /javascript: link/);
  });
});

// --- SMTP ---

interface Received { from: string; to: string[]; raw: string }

describe('mailer over SMTP', () => {
  const received: Received[] = [];
  let server: SMTPServer;
  let url: string;

  before(async () => {
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      closeTimeout: 1000,
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address.endsWith('@refused.test')) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server.server, 'listening');
    url = `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(resolve));
  });

  test('delivers a rendered message with the right envelope, headers and bodies', async () => {
    const { lines, log } = capturingLogger();
    const mailer = createMailer({ smtpUrl: url, from: FROM, outboxDir: '/nonexistent', log });
    try {
      assert.equal(mailer.mode, 'smtp');
      await mailer.verify();
      const email = renderEmail('invitation', 'sv', sampleVars.invitation);
      const { messageId } = await mailer.send({ to: 'alice@example.org', ...email, template: 'invitation' });

      assert.equal(received.length, 1);
      const [got] = received;
      assert.equal(got!.from, 'no-reply@haven.test');
      assert.deepEqual(got!.to, ['alice@example.org']);
      const mail = parseMail(got!.raw);
      assert.equal(mail.headers.get('from'), FROM);
      assert.equal(mail.headers.get('to'), 'alice@example.org');
      assert.equal(mail.headers.get('subject'), email.subject);
      assert.match(email.subject, /har bjudit in dig/);
      assert.equal(mail.headers.get('message-id'), messageId);
      assert.equal(mail.headers.get('auto-submitted'), 'auto-generated');
      assert.equal(mail.text!.trimEnd(), email.text.trimEnd());
      assert.ok(mail.text!.includes(XSS), 'the text part shows the name as written');
      assert.ok(mail.html!.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the html part escapes it');
      assert.ok(!mail.html!.includes(XSS));

      const logged = lines.join('');
      assert.ok(!logged.includes('alice@example.org'), 'the recipient is never logged');
      assert.ok(logged.includes(`"messageId":"${messageId.slice(1, messageId.indexOf('@'))}"`) && logged.includes('"template":"invitation"'));
    } finally {
      mailer.close();
    }
  });

  test('a refused recipient is a clear mail_not_sent error', async () => {
    const { lines, log } = capturingLogger();
    const mailer = createMailer({ smtpUrl: url, from: FROM, outboxDir: '/nonexistent', log });
    try {
      await assert.rejects(mailer.send({ to: 'bob@refused.test', subject: 's', text: 't', template: 'verify_email' }), (err: unknown) => {
        assert.ok(err instanceof AppError);
        assert.equal(err.code, 'mail_not_sent');
        assert.equal(err.status, 503);
        assert.match(err.message, /refused the sender or recipient/);
        return true;
      });
      assert.ok(!lines.join('').includes('bob@refused.test'));
    } finally {
      mailer.close();
    }
  });
});

describe('mailer when SMTP is unreachable', () => {
  const expectNotSent = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof AppError, `AppError, got ${String(err)}`);
    assert.equal(err.code, 'mail_not_sent');
    assert.match(err.message, pattern);
    return true;
  };

  test('a closed port: send() and verify() reject at once', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const mailer: Mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}`, from: FROM, outboxDir: '/nonexistent', log: capturingLogger().log });
    try {
      const started = Date.now();
      await assert.rejects(mailer.send({ to: 'carol@example.org', subject: 's', text: 't' }), expectNotSent(/connection to the mail server failed/));
      await assert.rejects(mailer.verify(), expectNotSent(/connection to the mail server failed/));
      assert.ok(Date.now() - started < 5000, 'no retry loop');
    } finally {
      mailer.close();
    }
  });

  test('a server that accepts but never greets: the greeting timeout ends the wait', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((s) => { sockets.add(s); s.on('error', () => {}); }).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as AddressInfo;
    // Query parameters override the mailer's default timeouts (10 s), keeping the test short.
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${port}?greetingTimeout=300`, from: FROM, outboxDir: '/nonexistent', log: capturingLogger().log });
    try {
      const started = Date.now();
      await assert.rejects(mailer.send({ to: 'dave@example.org', subject: 's', text: 't' }), expectNotSent(/did not answer in time/));
      await assert.rejects(mailer.verify(), expectNotSent(/did not answer in time/));
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
    } finally {
      mailer.close();
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

// --- outbox ---

describe('mailer without SMTP (outbox)', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'haven-mail-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('writes each message as a private, parseable .eml file', async () => {
    const outboxDir = join(dir, 'mail-outbox');
    const { lines, log } = capturingLogger();
    const mailer = createMailer({ from: FROM, outboxDir, log });
    assert.equal(mailer.mode, 'outbox');
    await mailer.verify();
    const email = renderEmail('dsar_code', 'de', sampleVars.dsar_code);
    const { messageId } = await mailer.send({ to: 'erin@example.org', ...email, template: 'dsar_code' });
    await mailer.send({ to: 'frank@example.org', subject: 'second', text: 'plain only' });
    mailer.close();

    const files = (await readdir(outboxDir)).sort();
    assert.equal(files.length, 2, `only finished messages, no staging files: ${files.join(', ')}`);
    assert.ok(files.every((f) => /^\d{4}-\d\d-\d\dT[\d.-]+Z-[0-9a-f-]{36}\.eml$/.test(f)));
    const raws = await Promise.all(files.map((f) => readFile(join(outboxDir, f), 'utf8')));
    const first = raws.find((r) => r.includes(messageId))!;
    for (const f of files) assert.equal((await stat(join(outboxDir, f))).mode & 0o777, 0o600);
    assert.equal((await stat(outboxDir)).mode & 0o777, 0o700);

    assert.ok(!/[^\r]\n/.test(first), 'CRLF line endings, as on the wire');
    const mail = parseMail(first);
    assert.equal(mail.headers.get('from'), FROM);
    assert.equal(mail.headers.get('to'), 'erin@example.org');
    assert.equal(mail.headers.get('subject'), 'Ihr Bestätigungscode');
    assert.equal(mail.headers.get('message-id'), messageId);
    assert.ok(mail.text!.includes('048213') && mail.text!.includes('10 Minuten'));
    assert.ok(mail.html!.includes('048213'));
    assert.ok(!lines.join('').includes('erin@example.org'), 'the recipient is never logged');
  });
});
