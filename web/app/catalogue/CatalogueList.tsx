'use client';
// The images the registry carries (GET /api/catalogue), each with its tags and one-line description.
import { useEffect, useState } from 'react';
import type { Locale } from '@dockside/lessons';
import type { CatalogueImage } from '@dockside/protocol';
import { api } from '../../lib/api';
import { t } from '../../lib/i18n';

export function CatalogueList({ locale }: { locale: Locale }) {
  const m = t(locale);
  const [images, setImages] = useState<CatalogueImage[] | 'failed' | undefined>();
  useEffect(() => {
    api<CatalogueImage[]>('GET', '/api/catalogue').then(setImages, () => setImages('failed'));
  }, []);
  if (images === 'failed')
    return (
      <p className="banner banner-error" role="alert">
        {m.catalogueFailed}
      </p>
    );
  if (!images) return <p role="status">{m.catalogueLoading}</p>;
  return (
    <ul className="lesson-list image-list" aria-label={m.catalogueTitle}>
      {images.map((image) => (
        <li key={image.repository} className="lesson-card" data-repository={image.repository}>
          <h2 id={`image-${image.repository}`}>{image.repository}</h2>
          <p>{image.description[locale]}</p>
          <p className="meta">
            <span className="visually-hidden">{m.catalogueTags}: </span>
            {image.tags.map((tag) => (
              <code key={tag} className="image-tag">
                {image.repository}:{tag}
              </code>
            ))}
          </p>
        </li>
      ))}
    </ul>
  );
}
