import { headers } from 'next/headers';

/** The nonce of this page's scripts, from the policy the server put on the request (securityHeaders.ts). */
export async function scriptNonce(): Promise<string | undefined> {
  const policy = (await headers()).get('content-security-policy') ?? '';
  return /'nonce-([^']+)'/.exec(policy)?.[1];
}
