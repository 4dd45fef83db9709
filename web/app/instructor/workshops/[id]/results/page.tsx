import { Results } from '../../../../../components/workshop/Results';
import { requestLocale } from '../../../../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function WorkshopResultsPage({ params }: { params: Promise<{ id: string }> }) {
  const [{ id }, locale] = await Promise.all([params, requestLocale()]);
  return <Results workshopId={id} locale={locale} />;
}
