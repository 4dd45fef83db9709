// The owner's way into a port preview: a link to the preview's own origin with a one-time capability
// (previewAccess.ts). A POST, so the CSRF check applies: another site cannot have one made for a learner.
import { SANDBOX_ID } from '@dockside/protocol';
import type { ApiDeps } from './deps';
import { OPEN_PATH } from './preview';
import { localeFrom } from './previewPage';
import { HttpError } from './respond';
import type { Route } from './router';
import { ownSandbox } from './sandboxRoutes';
import { parseCookies } from './session';

const LOCALE_COOKIE = 'dockside_lang';

export const previewRoutes: Route<ApiDeps>[] = [
  {
    method: 'POST',
    path: new RegExp(`^/api/sandboxes/(${SANDBOX_ID})/previews/(\\d{1,5})$`),
    handle: async (ctx, deps) => {
      const sandboxId = await ownSandbox(ctx, deps);
      const port = Number(ctx.params[1]);
      if (port < 1 || port > 65535) throw new HttpError(400, 'invalid_request', 'port: a number from 1 to 65535');
      const chosen = parseCookies(ctx.req.headers.cookie)[LOCALE_COOKIE];
      const locale = chosen === 'en' || chosen === 'ko' ? chosen : localeFrom(ctx.req.headers['accept-language']);
      const target = { sandboxId, port };
      const { token, expiresAt } = deps.previews.access.link(target, { learnerId: ctx.learnerId, locale });
      const url = new URL(OPEN_PATH, deps.previews.origins.previewUrl(sandboxId, port));
      url.searchParams.set('token', token);
      return { url: url.toString(), expiresAt: new Date(expiresAt).toISOString() };
    },
  },
];
