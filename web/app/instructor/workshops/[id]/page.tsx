import { Dashboard } from '../../../../components/workshop/Dashboard';
import { requestLocale } from '../../../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function WorkshopPage({ params }: { params: Promise<{ id: string }> }) {
  const [{ id }, locale] = await Promise.all([params, requestLocale()]);
  return <Dashboard workshopId={id} locale={locale} />;
}
