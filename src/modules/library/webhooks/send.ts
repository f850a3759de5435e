// One HTTP POST of a webhook: no redirects followed, a deadline, the response
// body read and dropped (nothing of it is stored), and the address checks of
// targets.ts on the connection itself.
import { isIP } from 'node:net';
import { checkEndpointUrl, isPublicAddress, publicOnlyLookup } from './targets.ts';

// Not `import http from 'node:http'`: the ESM wrapper of node:http reads every
// export, and its lazy WebSocket getter loads Node's bundled undici, which then
// stays resident for the process's life though nothing here uses it
// (docs/decisions/0004-memory.md).
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export interface SendResult {
  /** The response status, when a response came. */
  statusCode?: number;
  durationMs: number;
  /** Why no response came (or why it was not sent); short and free of response content. */
  error?: string;
}

export interface SendOptions { allowPrivate: boolean; timeoutMs: number; now?: () => number }

const MAX_RESPONSE_BYTES = 64 * 1024;

export async function postWebhook(rawUrl: string, body: string, headers: Record<string, string>, opts: SendOptions): Promise<SendResult> {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const elapsed = () => Math.max(0, Math.round(now() - started));
  let url: URL;
  try {
    url = checkEndpointUrl(rawUrl, opts.allowPrivate);
  } catch (err) {
    return { durationMs: 0, error: (err as Error).message };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!opts.allowPrivate && isIP(host) && !isPublicAddress(host)) return { durationMs: 0, error: 'the target is not a public address' };

  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      resolve(result);
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
      agent: false,
      ...(opts.allowPrivate ? {} : { lookup: publicOnlyLookup as never }),
    }, (response) => {
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        // A receiver answering with a flood gets cut off; its status still counts.
        if (read > MAX_RESPONSE_BYTES) response.destroy();
      });
      const done = () => finish({ statusCode: response.statusCode, durationMs: elapsed() });
      response.once('end', done);
      response.once('close', done);
      response.once('error', done);
    });
    const deadline = setTimeout(() => {
      request.destroy();
      finish({ durationMs: elapsed(), error: `no response within ${opts.timeoutMs / 1000} s` });
    }, opts.timeoutMs);
    request.once('error', (err: NodeJS.ErrnoException) => {
      finish({ durationMs: elapsed(), error: describe(err) });
    });
    request.end(body);
  });
}

function describe(err: NodeJS.ErrnoException): string {
  if (err.code === 'WEBHOOK_TARGET_PRIVATE') return err.message.slice(0, 300);
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host name not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'connection timed out',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    CERT_HAS_EXPIRED: 'TLS certificate expired',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate could not be verified',
    ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
  };
  return (err.code && known[err.code]) ?? `request failed (${err.code ?? err.name})`;
}
