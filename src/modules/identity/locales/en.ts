import type { Locale } from '../emails.ts';

export const en: Locale = {
  invitation: ({ inviterName, tenantName, acceptUrl, expiresAt }, f) => ({
    subject: `${inviterName} invited you to ${tenantName}`,
    blocks: [
      `${inviterName} has invited you to join ${tenantName} on Haven.`,
      { label: 'Accept the invitation', url: acceptUrl },
      `The invitation is valid until ${f.date(expiresAt)}.`,
      'If you were not expecting this invitation, you can ignore this email.',
    ],
  }),
  verify_email: ({ verifyUrl }) => ({
    subject: 'Confirm your email address',
    blocks: [
      'Please confirm that this address belongs to you by opening the link below.',
      { label: 'Confirm email address', url: verifyUrl },
      'If you did not create a Haven account, you can ignore this email.',
    ],
  }),
  password_reset: ({ resetUrl, validMinutes }, f) => ({
    subject: 'Reset your password',
    blocks: [
      'We received a request to reset the password of your account.',
      { label: 'Choose a new password', url: resetUrl },
      `The link is valid for ${f.minutes(validMinutes)} and works only once.`,
      'If you did not ask for this, ignore this email — your password is unchanged.',
    ],
  }),
  account_locked: ({ lockedUntil, resetUrl }, f) => ({
    subject: 'Your account has been locked for now',
    blocks: [
      `Your account was locked after too many failed sign-in attempts. You can sign in again after ${f.date(lockedUntil)}.`,
      'If it was not you trying to sign in, someone may be guessing your password. Choose a new one here:',
      { label: 'Reset your password', url: resetUrl },
    ],
  }),
  new_login: ({ at, browser, network }, f) => ({
    subject: 'New sign-in to your account',
    blocks: [
      'Someone just signed in to your account.',
      `Time: ${f.date(at)}\nBrowser: ${browser}\nNetwork: ${network} (a pseudonym of the IP address)`,
      'If this was you, there is nothing to do. If not, change your password now and sign out all other sessions.',
    ],
  }),
  dsar_code: ({ code, validMinutes }, f) => ({
    subject: 'Your verification code',
    blocks: [
      'Use this code to confirm your request about your personal data:',
      { code },
      `The code is valid for ${f.minutes(validMinutes)}. Do not share it with anyone.`,
      'If you did not make such a request, you can ignore this email.',
    ],
  }),
  export_ready: ({ downloadUrl, expiresAt }, f) => ({
    subject: 'Your data export is ready',
    blocks: [
      'The export of your personal data is ready to download.',
      { label: 'Download the export', url: downloadUrl },
      `The link works only once and is valid until ${f.date(expiresAt)}.`,
    ],
  }),
  footer: 'This is an automated message from Haven. Replies are not read.',
};
