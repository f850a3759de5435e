// My passkeys: register one with this browser or a security key
// (navigator.credentials.create), rename, remove.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import type { ResponseOf } from '../../../api/types.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button, DataTable, Dialog, ErrorView, Form, Loading, Section, TextField, useAsync, useToast } from '../../../ui/index.ts';
import { fromBase64url, toBase64url } from '../format.ts';
import { useReauth } from './reauth.tsx';

type CreationOptions = ResponseOf<'/api/v1/account/passkeys/options', 'post'>;
type Passkey = ResponseOf<'/api/v1/account/passkeys'>['items'][number];

/** The server's JSON options as the browser's create() takes them. */
function toPublicKey(o: CreationOptions): PublicKeyCredentialCreationOptions {
  return {
    rp: o.rp,
    user: { id: fromBase64url(o.user.id), name: o.user.name, displayName: o.user.displayName },
    challenge: fromBase64url(o.challenge),
    pubKeyCredParams: o.pubKeyCredParams.map((p) => ({ alg: p.alg, type: 'public-key' as const })),
    timeout: o.timeout,
    excludeCredentials: o.excludeCredentials?.map((c) => ({ id: fromBase64url(c.id), type: 'public-key' as const, transports: c.transports as AuthenticatorTransport[] | undefined })),
    authenticatorSelection: o.authenticatorSelection as AuthenticatorSelectionCriteria | undefined,
    attestation: o.attestation as AttestationConveyancePreference | undefined,
    extensions: o.extensions,
  };
}

/** The browser's answer in WebAuthn's JSON form (what the server's registration body takes). */
function registrationJson(cred: PublicKeyCredential) {
  const r = cred.response as AuthenticatorAttestationResponse;
  const publicKey = r.getPublicKey?.();
  return {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: 'public-key' as const,
    authenticatorAttachment: (cred.authenticatorAttachment ?? undefined) as 'platform' | 'cross-platform' | undefined,
    clientExtensionResults: cred.getClientExtensionResults() as Record<string, unknown>,
    response: {
      clientDataJSON: toBase64url(r.clientDataJSON),
      attestationObject: toBase64url(r.attestationObject),
      authenticatorData: r.getAuthenticatorData ? toBase64url(r.getAuthenticatorData()) : undefined,
      transports: r.getTransports?.(),
      publicKeyAlgorithm: r.getPublicKeyAlgorithm?.(),
      publicKey: publicKey ? toBase64url(publicKey) : undefined,
    },
  };
}

export function PasskeysSection() {
  const t = useT();
  const fmt = useFormat();
  const toast = useToast();
  const reauth = useReauth();
  const passkeys = useAsync(() => call(api.GET('/api/v1/account/passkeys')), []);
  const [adding, setAdding] = useState(false);
  const [name, setName] = useState('');
  const [renaming, setRenaming] = useState<Passkey | null>(null);
  const [newName, setNewName] = useState('');
  const [removing, setRemoving] = useState<Passkey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const supported = typeof window !== 'undefined' && 'PublicKeyCredential' in window;

  async function register() {
    if (!(await reauth.ensure())) throw new Error(t('account.passkeys.cancelled'));
    const options = await call(api.POST('/api/v1/account/passkeys/options'));
    let cred: Credential | null;
    try {
      cred = await navigator.credentials.create({ publicKey: toPublicKey(options) });
    } catch (err) {
      throw new Error(err instanceof DOMException && err.name === 'NotAllowedError' ? t('account.passkeys.cancelled') : t('account.passkeys.browser_failed'));
    }
    if (!cred) throw new Error(t('account.passkeys.cancelled'));
    await call(api.POST('/api/v1/account/passkeys', { body: { ...(name.trim() ? { name: name.trim() } : {}), credential: registrationJson(cred as PublicKeyCredential) } }));
    setAdding(false);
    setName('');
    toast.show(t('account.passkeys.added'));
    passkeys.reload();
  }

  async function remove(p: Passkey) {
    setRemoving(null);
    setError(null);
    if (!(await reauth.ensure())) return;
    try {
      await call(api.DELETE('/api/v1/account/passkeys/{id}', { params: { path: { id: p.id } } }));
      toast.show(t('account.passkeys.removed'));
      passkeys.reload();
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Section title={t('account.passkeys.title')} actions={supported ? <Button icon="plus" onClick={() => setAdding(true)}>{t('account.passkeys.add')}</Button> : undefined}>
      {reauth.dialog}
      <p className="muted">{supported ? t('account.passkeys.intro') : t('account.passkeys.unsupported')}</p>
      {error ? <p className="alert alert-error" role="alert">{error}</p> : null}
      {passkeys.error ? <ErrorView error={passkeys.error} onRetry={passkeys.reload} /> : !passkeys.data ? <Loading /> : (
        <DataTable
          caption={t('account.passkeys.title')}
          captionHidden
          rows={passkeys.data.items}
          rowKey={(p) => p.id}
          columns={[
            { key: 'name', header: t('account.passkeys.name'), render: (p) => p.name },
            { key: 'kind', header: t('account.passkeys.kind'), render: (p) => (p.deviceType === 'multiDevice' ? t('account.passkeys.synced') : t('account.passkeys.device_bound')) },
            { key: 'created', header: t('account.passkeys.created'), render: (p) => fmt.date(p.createdAt) },
            { key: 'used', header: t('account.passkeys.last_used'), render: (p) => (p.lastUsedAt ? fmt.dateTime(p.lastUsedAt) : t('account.passkeys.never')) },
            { key: 'actions', header: t('account.table.actions'), render: (p) => (
              <span className="row">
                <Button variant="ghost" icon="edit" onClick={() => { setRenaming(p); setNewName(p.name); }} aria-label={t('account.passkeys.rename_label', { name: p.name })}>{t('account.passkeys.rename')}</Button>
                <Button variant="danger" icon="trash" onClick={() => setRemoving(p)} aria-label={t('account.passkeys.remove_label', { name: p.name })}>{t('account.passkeys.remove')}</Button>
              </span>
            ) },
          ]}
          empty={t('account.passkeys.none')}
        />
      )}

      <Dialog open={adding} title={t('account.passkeys.add')} onClose={() => setAdding(false)} size="small">
        <Form
          label={t('account.passkeys.add')}
          submitLabel={t('account.passkeys.create')}
          validate={() => ({ name: name.trim().length > 100 ? t('account.form.too_long', { max: 100 }) : undefined })}
          onSubmit={register}
          secondary={<Button onClick={() => setAdding(false)}>{t('account.action.cancel')}</Button>}
        >
          <TextField label={t('account.passkeys.name_optional')} name="name" value={name} maxLength={100} onChange={(e) => setName(e.target.value)} hint={t('account.passkeys.name_hint')} />
        </Form>
      </Dialog>

      <Dialog open={renaming !== null} title={t('account.passkeys.rename')} onClose={() => setRenaming(null)} size="small">
        <Form
          label={t('account.passkeys.rename')}
          submitLabel={t('account.action.save')}
          validate={() => ({ name: !newName.trim() ? t('account.form.required') : newName.trim().length > 100 ? t('account.form.too_long', { max: 100 }) : undefined })}
          onSubmit={async () => {
            await call(api.PATCH('/api/v1/account/passkeys/{id}', { params: { path: { id: renaming!.id } }, body: { name: newName.trim() } }));
            setRenaming(null);
            passkeys.reload();
          }}
          secondary={<Button onClick={() => setRenaming(null)}>{t('account.action.cancel')}</Button>}
        >
          <TextField label={t('account.passkeys.name')} name="name" value={newName} maxLength={100} onChange={(e) => setNewName(e.target.value)} />
        </Form>
      </Dialog>

      <Dialog
        open={removing !== null}
        title={t('account.passkeys.remove_title')}
        onClose={() => setRemoving(null)}
        size="small"
        actions={<>
          <Button onClick={() => setRemoving(null)}>{t('account.action.cancel')}</Button>
          <Button variant="danger" onClick={() => removing && void remove(removing)}>{t('account.passkeys.remove')}</Button>
        </>}
      >
        <p>{t('account.passkeys.remove_body', { name: removing?.name ?? '' })}</p>
      </Dialog>
    </Section>
  );
}
