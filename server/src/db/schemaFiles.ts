// prisma/postgresql/schema.prisma is prisma/schema.prisma with another provider and client output.
export function postgresSchemaText(sqliteSchema: string): string {
  return sqliteSchema
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace('output   = "../server/src/generated/sqlite"', 'output   = "../../server/src/generated/postgresql"')
    .replace(
      /^\/\/ The canonical[^\n]*\n\/\/[^\n]*\n/,
      '// Generated from ../schema.prisma by `npm run db -- sync-schemas`. Do not edit.\n',
    );
}
