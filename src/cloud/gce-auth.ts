// A fixed bearer token for the Compute REST transport, for endpoints that take one without Google's OAuth flow
// (tests against the fake, or a token minted outside the process). google-gax's REST stub only needs
// `getRequestHeaders()` and `fetch()` of its auth object (google-gax/build/src/fallback.js createStub).

export class StaticTokenAuth {
  readonly universeDomain = 'googleapis.com';

  constructor(private readonly token: string) {}

  async getRequestHeaders(): Promise<Headers> {
    return new Headers({ authorization: `Bearer ${this.token}` });
  }

  async getAccessToken(): Promise<{ token: string }> {
    return { token: this.token };
  }

  async getProjectId(): Promise<string> {
    throw new Error('a static token carries no project: set --gce-project');
  }

  fetch(url: string | URL, init: RequestInit & { agent?: unknown; responseType?: unknown } = {}): Promise<Response> {
    const { agent: _agent, responseType: _responseType, ...rest } = init;
    const headers = new Headers(rest.headers);
    headers.set('authorization', `Bearer ${this.token}`);
    return fetch(url, { ...rest, headers });
  }
}
