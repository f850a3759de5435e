// Outgoing mail. With an SMTP URL, messages go through a pooled SMTP
// connection. Without one (the local-install default) each message is written
// as an RFC 822 .eml file to the outbox directory, so mail on a laptop is still
// real and can be opened in any mail client; production must set
// HAVEN_SMTP_URL.
//
// Logs name the message (template, Message-ID), never the recipient.
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Transporter } from 'nodemailer';
import { AppError } from './errors.ts';
import type { Logger } from './log.ts';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
  headers?: Record<string, string>;
  /** Names the kind of message in logs (e.g. "password_reset"); the recipient never is. */
  template?: string;
}

export interface Mailer {
  readonly mode: 'smtp' | 'outbox';
  /** Rejects with AppError 'mail_not_sent' (503) when the message could not be handed over. */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  /** Proves the SMTP server accepts a connection (and login), or that the outbox is writable. */
  verify(): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl?: string;
  from: string;
  outboxDir: string;
  log: Logger;
}

// nodemailer waits minutes by default; a request that sends mail must not.
// Query parameters of the SMTP URL override these (e.g. ?greetingTimeout=30000).
const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  dnsTimeout: 10_000,
  socketTimeout: 60_000,
};

// Every message Haven sends is machine-generated; RFC 3834 asks
// auto-responders (vacation replies) not to answer it.
const DEFAULT_HEADERS = { 'Auto-Submitted': 'auto-generated' };

type TransportOptions = Parameters<typeof import('nodemailer').createTransport>[0];

// nodemailer (~6 MB of heap) is loaded when the first message is sent or the
// server is verified, not at start-up: most nodes send mail rarely.
function lazyTransport(options: TransportOptions): { get(): Promise<Transporter>; close(): void } {
  let transport: Promise<Transporter> | undefined;
  return {
    get: () => (transport ??= import('nodemailer').then((m) => m.createTransport(options))),
    close: () => void transport?.then((t) => t.close()),
  };
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl ? createSmtpMailer(options.smtpUrl, options) : createOutboxMailer(options);
}

function createSmtpMailer(url: string, { from, log }: MailerOptions): Mailer {
  const transport = lazyTransport({ pool: true, url, maxConnections: 2, ...SMTP_TIMEOUTS });
  return {
    mode: 'smtp',
    async send(mail) {
      try {
        const info = await (await transport.get()).sendMail(message(from, mail));
        log.info({ template: mail.template, messageId: loggable(info.messageId) }, 'mail sent');
        return { messageId: info.messageId };
      } catch (err) {
        throw notSent(err, mail, log);
      }
    },
    async verify() {
      try {
        await (await transport.get()).verify();
      } catch (err) {
        throw notSent(err, undefined, log);
      }
    },
    close: () => transport.close(),
  };
}

function createOutboxMailer({ from, outboxDir, log }: MailerOptions): Mailer {
  // newline 'windows': the file holds the message exactly as it would travel over SMTP.
  const composer = lazyTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  log.info({ outboxDir }, 'no SMTP server configured (HAVEN_SMTP_URL); outgoing mail is written to the outbox directory');
  return {
    mode: 'outbox',
    async send(mail) {
      const info = await (await composer.get()).sendMail(message(from, mail));
      const file = `${new Date().toISOString().replaceAll(':', '-')}-${randomUUID()}.eml`;
      await writeAtomically(outboxDir, file, info.message as Buffer);
      log.info({ template: mail.template, messageId: loggable(info.messageId), file }, 'mail written to outbox');
      return { messageId: info.messageId };
    },
    async verify() {
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      await access(outboxDir, constants.W_OK);
    },
    close: () => composer.close(),
  };
}

function message(from: string, mail: OutgoingMail) {
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers: { ...DEFAULT_HEADERS, ...mail.headers },
  };
}

// "<uuid@domain>" is shaped like an address, which the logger would replace by
// a pseudonym; the unique part before "@" still finds the message.
const loggable = (messageId: string) => messageId.replace(/^<|@.*$/g, '');

// A reader of the outbox (a person, a test, a pickup script) never sees a
// half-written message: the bytes land under a dot-name and are renamed.
async function writeAtomically(dir: string, file: string, bytes: Buffer): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${file}.tmp`);
  try {
    await writeFile(tmp, bytes, { flag: 'wx', mode: 0o600, flush: true });
    await rename(tmp, join(dir, file));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

const REASONS: Record<string, string> = {
  ECONNECTION: 'the mail server could not be reached',
  ETIMEDOUT: 'the mail server did not answer in time',
  EDNS: 'the mail server name could not be resolved',
  ESOCKET: 'the connection to the mail server failed',
  EAUTH: 'the mail server refused the login',
  ETLS: 'the TLS handshake with the mail server failed',
  EENVELOPE: 'the mail server refused the sender or recipient',
  EMESSAGE: 'the mail server refused the message',
};

function notSent(err: unknown, mail: OutgoingMail | undefined, log: Logger): AppError {
  const { code, responseCode } = err as { code?: string; responseCode?: number };
  const reason = (code && REASONS[code]) || 'the mail server reported an error';
  // The server's own wording may quote the address, so only codes are logged.
  log.warn({ template: mail?.template, code, responseCode }, `mail not sent: ${reason}`);
  const error = new AppError('mail_not_sent', 503, `Mail could not be sent: ${reason}.`);
  error.cause = err;
  return error;
}
