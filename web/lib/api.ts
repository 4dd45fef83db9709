// The browser's REST client: same-origin, cookie session, CSRF token for calls that change state.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body: unknown = undefined,
  ) {
    super(message);
  }
}

let csrf: Promise<string> | null = null;

function csrfToken(): Promise<string> {
  csrf ??= fetch('/api/session', { credentials: 'same-origin' })
    .then((r) => r.json() as Promise<{ csrfToken: string }>)
    .then((s) => s.csrfToken)
    .catch((err: unknown) => {
      csrf = null;
      throw err;
    });
  return csrf;
}

export async function api<T>(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['x-csrf-token'] = await csrfToken();
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'offline', 'the server cannot be reached');
  }
  const json = (await res.json().catch(() => null)) as unknown;
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | null)?.error;
    if (res.status === 403 && error?.code === 'csrf') csrf = null;
    throw new ApiError(res.status, error?.code ?? 'http_' + res.status, error?.message ?? res.statusText, json);
  }
  return json as T;
}

/** Query string for a sandbox path, e.g. `?path=%2Fworkspace%2FDockerfile`. */
export const pathQuery = (p: string) => `?path=${encodeURIComponent(p)}`;
