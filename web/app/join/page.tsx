import { JoinForm } from '../../components/workshop/JoinForm';
import { requestLocale } from '../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function JoinPage() {
  return <JoinForm locale={await requestLocale()} />;
}
