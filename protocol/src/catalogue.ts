// The image catalogue (`GET /api/catalogue`, the /catalogue page, `docker search`): what this
// installation's registry carries under Docker Hub's names.

export type Localized = { en: string; ko: string };

/** One repository of the catalogue with every tag it answers to. */
export type CatalogueImage = { repository: string; tags: string[]; description: Localized };
