// The image catalogue (the /catalogue page): the repositories this installation's registry carries,
// with their tags and one-line descriptions. Public, like the lesson list.
import type { CatalogueImage } from '@dockside/protocol';
import { loadCatalogue } from '../images/catalogue';
import type { ApiDeps } from './deps';
import type { Route } from './router';

let catalogue: CatalogueImage[] | undefined;

export const catalogueRoutes: Route<ApiDeps>[] = [
  {
    method: 'GET',
    path: /^\/api\/catalogue$/,
    // Read once: the recipes change only with a new checkout, and a new checkout means a new server.
    handle: async () => (catalogue ??= loadCatalogue()),
  },
];
