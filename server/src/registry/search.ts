// `docker search` inside a sandbox: dockerd asks https://index.docker.io/v1/search?q=…&n=…, which the
// hub answers here in Docker Hub's v1 search JSON, from what the mirror serves and the catalogue's
// descriptions. A name matches before a description does, as on Docker Hub.
import { loadCatalogue } from '../images/catalogue';

export type SearchResult = {
  name: string;
  description: string;
  star_count: number;
  is_official: boolean;
  is_automated: boolean;
};

let lastGood = new Map<string, string>();
/** Each repository's English description; a recipe folder being edited keeps the last good ones. */
function descriptions(): Map<string, string> {
  try {
    lastGood = new Map(loadCatalogue().map((i) => [i.repository, i.description.en]));
  } catch {
    // keep lastGood: a half-written image.json must not break `docker search`
  }
  return lastGood;
}

/** The v1 search answer for `url` over the repositories `carried` (familiar names: `nginx`, not `library/nginx`). */
export function searchAnswer(
  url: string,
  carried: string[],
): { num_results: number; query: string; results: SearchResult[] } {
  const params = new URL(url, 'https://index.docker.io').searchParams;
  const query = (params.get('q') ?? '').trim().toLowerCase();
  const limit = Math.min(100, Math.max(1, Number(params.get('n')) || 25));
  const described = descriptions();
  const rows = carried.map((name) => ({ name, description: described.get(name) ?? '' }));
  const byName = rows.filter((r) => r.name.includes(query));
  const byDescription = rows.filter((r) => !r.name.includes(query) && r.description.toLowerCase().includes(query));
  const results = [...byName, ...byDescription].slice(0, limit).map((r) => ({
    name: r.name,
    description: r.description,
    star_count: 0,
    is_official: !r.name.includes('/'),
    is_automated: false,
  }));
  return { num_results: results.length, query, results };
}
