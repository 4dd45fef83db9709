// What the server loads as it starts: every module main.ts reaches through static imports that are not
// type-only. The Kubernetes client libraries are ~130 MB of a server's memory (measured: 507 → 351 MB
// idle when they went lazy), so they load only when DOCKSIDE_RUNTIME=kubernetes asks for them.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The packages main.ts reaches, and the files of this repository on the way, by static value imports. */
function staticallyLoaded(entry: string): { packages: Set<string>; files: Set<string> } {
  const packages = new Set<string>();
  const files = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
    for (const node of source.statements) {
      const specifier =
        (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly) ||
        (ts.isExportDeclaration(node) && !node.isTypeOnly)
          ? node.moduleSpecifier
          : undefined;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      const name = specifier.text;
      if (!name.startsWith('.')) {
        packages.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!);
        continue;
      }
      const base = path.resolve(path.dirname(file), name);
      const resolved = [`${base}.ts`, path.join(base, 'index.ts'), base].find(
        (f) => existsSync(f) && f.endsWith('.ts'),
      );
      if (resolved) visit(resolved);
    }
  };
  visit(entry);
  return { packages, files };
}

describe("the server's start-up", () => {
  const loaded = staticallyLoaded(path.join(import.meta.dirname, 'main.ts'));

  it('loads no Kubernetes client library unless the Kubernetes runtime is asked for', () => {
    expect(loaded.files.size).toBeGreaterThan(50); // the walk follows the server's own modules
    expect(loaded.packages).toContain('socket.io'); // and sees the packages they use
    expect([...loaded.packages].filter((p) => /kubernetes/.test(p))).toEqual([]);
    expect([...loaded.files].filter((f) => f.includes(`${path.sep}kubernetes${path.sep}`))).toEqual([]);
  });
});
