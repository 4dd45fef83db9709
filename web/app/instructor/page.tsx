import { InstructorAuth } from '../../components/workshop/InstructorAuth';
import { requestLocale } from '../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function InstructorPage() {
  return <InstructorAuth locale={await requestLocale()} />;
}
