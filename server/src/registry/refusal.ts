// What the hub answers for a repository it cannot serve, in Docker Hub's own form: a 401 whose bearer
// challenge says error="insufficient_scope". dockerd (20.10 and 26 alike) turns it into
// "pull access denied for NAME, repository does not exist or may require 'docker login': denied: MESSAGE",
// and MESSAGE is the challenge's error_description: seen in sandboxes on both, a 401 with that challenge
// prints the description and ignores the body; without error_description it prints "requested access to
// the resource is denied" (Docker Hub's own answer); a 403 without a challenge prints the body's
// errors[0].message; a 404 NAME_UNKNOWN reads "repository X not found: name unknown: MESSAGE". The body
// carries the same text, for clients that read it. Ours says what this installation carries.

export type Refusal = { status: number; headers: Record<string, string | number>; body: string };

/** Docker Hub's denial of `actions` on `repository` (as in the URL: `library/ubuntu`), saying `message`. */
export function hubDenied(repository: string, message: string, actions = 'pull'): Refusal {
  const body = JSON.stringify({
    errors: [
      {
        code: 'DENIED',
        message,
        detail: actions.split(',').map((Action) => ({ Type: 'repository', Class: '', Name: repository, Action })),
      },
    ],
  });
  // A quoted-string: no quotes or backslashes inside, and one line.
  const description = message.replace(/["\\]/g, "'").replace(/[\r\n]+/g, ' ');
  return {
    status: 401,
    body,
    headers: {
      'content-type': 'application/json',
      'docker-distribution-api-version': 'registry/2.0',
      'www-authenticate': `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:${repository}:${actions}",error="insufficient_scope",error_description="${description}"`,
      'content-length': Buffer.byteLength(body),
    },
  };
}

/** Docker Hub's own words for an anonymous push. */
export const PUSH_DENIED = 'requested access to the resource is denied';

const familiar = (repository: string) => repository.replace(/^library\//, '');

/** Why `repository` cannot be pulled here, naming what the registry does carry. */
export function notCarried(
  repository: string,
  carried: string[],
  upstream?: { host: string; reference: string; unreachable: string | null },
): string {
  const has = carried.length ? carried.join(', ') : 'nothing yet';
  const name = familiar(repository);
  if (!upstream) return `Dockside's registry does not carry ${name}; it has: ${has}`;
  if (upstream.unreachable)
    return `Dockside's registry does not carry ${name}, and its upstream ${upstream.host} could not be reached (${upstream.unreachable}); it has: ${has}`;
  const sep = upstream.reference.startsWith('sha256:') ? '@' : ':';
  return `neither Dockside's registry nor its upstream ${upstream.host} has ${name}${sep}${upstream.reference}; Dockside's registry has: ${has}`;
}
