import { JoinForm } from '../../../components/workshop/JoinForm';
import { requestLocale } from '../../../lib/request-locale';

export const dynamic = 'force-dynamic';

export default async function JoinCodePage({ params }: { params: Promise<{ code: string }> }) {
  const [{ code }, locale] = await Promise.all([params, requestLocale()]);
  return <JoinForm code={code} locale={locale} />;
}
