import { WorkshopList } from '../../../components/workshop/WorkshopList';
import { catalog } from '../../../lib/catalog';
import { requestLocale } from '../../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function WorkshopsPage() {
  const lessons = catalog().map((l) => ({
    id: l.id,
    title: l.title,
    exercises: l.exercises.map((e) => ({ id: e.id, title: e.title })),
  }));
  return <WorkshopList locale={await requestLocale()} lessons={lessons} />;
}
