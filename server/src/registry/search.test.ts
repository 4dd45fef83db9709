// `docker search` over the catalogue: Docker Hub's v1 JSON, names before descriptions, the engine's limit.
import { expect, it } from 'vitest';
import { loadCatalogue } from '../images/catalogue';
import { searchAnswer } from './search';

const carried = loadCatalogue().map((i) => i.repository);

it('answers in Docker Hub v1 form, with the catalogue description, official and unstarred', () => {
  const answer = searchAnswer('/v1/search?q=NGINX&n=25', carried);
  expect(answer.query).toBe('nginx');
  expect(answer.num_results).toBe(answer.results.length);
  expect(answer.results[0]).toEqual({
    name: 'nginx',
    description: loadCatalogue().find((i) => i.repository === 'nginx')!.description.en,
    star_count: 0,
    is_official: true,
    is_automated: false,
  });
});

it('lists names that match before descriptions that do, within the limit the engine asks for', () => {
  const byWord = searchAnswer('/v1/search?q=debian&n=100', carried).results.map((r) => r.name);
  expect(byWord[0]).toBe('debian');
  // Other images say "Debian's …" in their description: they follow the name match.
  expect(byWord.length).toBeGreaterThan(1);
  expect(searchAnswer('/v1/search?q=debian&n=1', carried).results.map((r) => r.name)).toEqual(['debian']);
  expect(searchAnswer('/v1/search?q=ubuntu', carried).results).toEqual([]);
});

it('names only what the registry serves, even when the catalogue describes more', () => {
  expect(searchAnswer('/v1/search?q=nginx', ['busybox']).results).toEqual([]);
});
