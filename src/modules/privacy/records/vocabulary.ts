// The words the data map may use, with what they mean to a reader of the
// record of processing. A declaration that uses a word not listed here is a
// mistake (test/privacy-records.test.ts says which), so the record can never
// show a category or a kind of person that nobody explained.

/** Data categories (fideslang-style dotted keys) and how the record names them. */
export const dataCategories: Record<string, string> = {
  'user.unique_id': 'account and viewer identifiers',
  'user.unique_id.pseudonymous': 'keyed pseudonyms of identifiers',
  'user.pseudonymous': 'pseudonymized event details (masked references)',
  'user.name': 'names and user names',
  'user.contact.email': 'email addresses',
  'user.demographic.language': 'preferred language',
  'user.authorization.credentials': 'credentials (password hashes, second factors, passkeys, token names)',
  'user.authorization.credentials.pseudonymous': 'pseudonyms of the credential used to act',
  'user.behavior': 'activity timestamps',
  'user.behavior.session': 'sign-in session activity',
  'user.behavior.media_consumption': 'viewing behaviour (what was watched, for how long)',
  'user.consent': 'consent decisions',
  'user.content': 'free text written by people',
  'user.content.self_image': 'video content, titles, descriptions and captions (may show or name people)',
  'user.device.browser': 'browser family',
  'user.device.browser_type': 'browser and operating system summary',
  'user.device.browser_fingerprint.pseudonymous': 'keyed pseudonyms of user agents',
  'user.device.device_type': 'device type',
  'user.device.ip_address': 'IP addresses (masked or full, per the organization\'s analytics settings)',
  'user.device.ip_address.pseudonymous': 'keyed pseudonyms of IP addresses',
  'user.device.screen': 'screen size',
  'user.device.telemetry': 'playback quality telemetry',
  'user.device.user_agent': 'user-agent strings',
  'user.location.imprecise': 'country (derived from the IP address)',
};

/** Kinds of data subjects (Art. 30(1)(c)). */
export const subjectKinds = {
  member: 'members of the organization (people with an account: owners, admins, editors, viewers)',
  audience: 'viewers who sign in through the organization\'s identity provider for audiences',
  invitee: 'people invited by email who have not yet joined',
  viewer: 'viewers of the organization\'s videos, signed in or not',
  client: 'network clients (addresses that reach the service)',
  'platform staff': 'the platform\'s operators and support staff acting in the organization',
} as const;
export type SubjectKind = keyof typeof subjectKinds;

/**
 * Subject roles that are not a column of their table. Each says which of the
 * table's columns find the subject's rows (what the erasure engine matches)
 * and which kinds of people it covers.
 */
export const subjectRoles: Record<string, { tables: string[]; columns: string[]; kinds: SubjectKind[]; meaning: string }> = {
  actor: {
    tables: ['audit_events'], columns: ['actor_id', 'actor_ref'], kinds: ['member', 'platform staff'],
    meaning: 'who acted: actor_id while the person exists, actor_ref (the keyed pseudonym of the account) for good',
  },
  target: {
    tables: ['audit_events'], columns: ['target_id', 'target_ref'], kinds: ['member', 'audience', 'invitee'],
    meaning: 'whom or what the action concerned: target_id, or target_ref (its keyed pseudonym)',
  },
  client: {
    tables: ['rate_limits'], columns: ['key'], kinds: ['client'],
    meaning: 'the network client a counter belongs to, known only by a keyed pseudonym of its address or account',
  },
};

/**
 * Which kind of person a subject column names. A column that links to users
 * names a member; a new linking column must be added here (the test says so).
 */
export const subjectColumns: Record<string, SubjectKind[]> = {
  user_id: ['member'],
  owner_id: ['member'],
  created_by: ['member'],
  updated_by: ['member'],
  revoked_by: ['member'],
  replaced_by: ['member'],
  invited_by: ['member'],
  added_by: ['member'],
  viewer_user_id: ['member', 'viewer'],
  viewer_audience_id: ['audience', 'viewer'],
  email: ['invitee'],
  deleted_by: ['member', 'platform staff'],
  requested_by: ['member', 'platform staff'],
  decided_by: ['member', 'platform staff'],
  // data-subject requests: whoever asked, member or not
  subject_email: ['member', 'audience', 'invitee', 'viewer'],
  subject_id: ['member', 'audience'],
  // the erasure ledger: a keyed pseudonym of whoever was erased
  subject_ref: ['member', 'audience', 'invitee'],
};

/** Tables whose own id is the data subject. */
export const subjectTables: Record<string, SubjectKind[]> = {
  users: ['member'],
  audience_accounts: ['audience'],
};

/** Legal instruments for a transfer outside a tenant's jurisdiction (Art. 44–49). */
export const transferBases = {
  scc: 'standard contractual clauses (Art. 46(2)(c))',
  adequacy: 'adequacy decision (Art. 45)',
  bcr: 'binding corporate rules (Art. 47)',
  consent: 'explicit consent of the data subjects (Art. 49(1)(a))',
} as const;
export type TransferBasis = keyof typeof transferBases;
export const transferBasisNames = Object.keys(transferBases) as [TransferBasis, ...TransferBasis[]];
