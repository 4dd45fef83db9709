// Loads Monaco from the app's own copy (web/public/monaco, made at build time) with its AMD loader,
// which also starts its web workers from there. Monaco is a page-wide library, so it loads once.
import type * as Monaco from 'monaco-editor';

export type MonacoApi = typeof Monaco;

type AmdRequire = ((deps: string[], ok: () => void, fail: (err: unknown) => void) => void) & {
  config: (c: { paths: Record<string, string> }) => void;
};

let loading: Promise<MonacoApi> | null = null;

export function loadMonaco(): Promise<MonacoApi> {
  loading ??= new Promise<MonacoApi>((resolve, reject) => {
    const w = window as unknown as { require?: AmdRequire; monaco?: MonacoApi };
    if (w.monaco) return resolve(w.monaco);
    const script = document.createElement('script');
    script.src = '/monaco/vs/loader.js';
    script.async = true;
    script.onload = () => {
      const amd = w.require!;
      amd.config({ paths: { vs: '/monaco/vs' } });
      amd(['vs/editor/editor.main'], () => resolve(w.monaco!), reject);
    };
    script.onerror = () => reject(new Error('the editor could not be loaded'));
    document.head.append(script);
  }).catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** Monaco's language id for a file, from its name. */
export function languageFor(path: string): string {
  const name = path.split('/').pop() ?? '';
  if (/^(Dockerfile|Containerfile)(\..*)?$/i.test(name) || name.endsWith('.dockerfile')) return 'dockerfile';
  const ext = name.includes('.') ? name.split('.').pop()!.toLowerCase() : '';
  const byExt: Record<string, string> = {
    yml: 'yaml',
    yaml: 'yaml',
    sh: 'shell',
    bash: 'shell',
    py: 'python',
    js: 'javascript',
    mjs: 'javascript',
    cjs: 'javascript',
    ts: 'typescript',
    json: 'json',
    md: 'markdown',
    html: 'html',
    css: 'css',
    ini: 'ini',
    toml: 'ini',
  };
  return byExt[ext] ?? (name === '.dockerignore' ? 'ignore' : 'plaintext');
}
