// A signed-in API client for tests: keeps the session cookie, sends the CSRF
// token on writes, and reads the error envelope.
import assert from 'node:assert/strict';

export interface ApiResponse<T = any> { status: number; body: T; headers: Headers }

export class ApiClient {
  readonly baseUrl: string;
  cookie?: string;
  csrf?: string;
  token?: string;
  ip?: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
  }

  async call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET') h['x-csrf-token'] = this.csrf;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    if (this.ip) h['x-forwarded-for'] = this.ip;
    const res = await fetch(new URL(path, this.baseUrl), { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual' });
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('haven_session='));
    if (setCookie) {
      const value = setCookie.split(';')[0]!;
      this.cookie = value === 'haven_session=' ? undefined : value;
    }
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON */ }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  get = <T = any>(path: string) => this.call<T>('GET', path);
  post = <T = any>(path: string, body?: unknown) => this.call<T>('POST', path, body ?? {});
  patch = <T = any>(path: string, body: unknown) => this.call<T>('PATCH', path, body);
  delete = <T = any>(path: string) => this.call<T>('DELETE', path);

  async login(email: string, password: string, extra: Record<string, string> = {}): Promise<ApiResponse> {
    const res = await this.call('POST', '/api/v1/auth/login', { email, password, ...extra });
    if (res.status === 200) this.csrf = res.body.csrfToken;
    return res;
  }

  /** Signs in and accepts every pending consent document. */
  async signIn(email: string, password: string, extra: Record<string, string> = {}): Promise<void> {
    const res = await this.login(email, password, extra);
    assert.equal(res.status, 200, `login failed: ${JSON.stringify(res.body)}`);
    const docs = await this.get('/api/v1/consent');
    for (const d of docs.body.items) {
      if (d.decision !== 'accepted') assert.equal((await this.post(`/api/v1/consent/${d.id}`, { decision: 'accepted' })).status, 200);
    }
  }
}

export function expectError(res: ApiResponse, status: number, code: string): void {
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.error?.code, code);
  assert.ok(typeof res.body.error.message === 'string' && res.body.error.message.length > 5);
}
