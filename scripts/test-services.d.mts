// Types of test-services.mjs for the TypeScript that imports it (the benchmarks).
export function ensureTestServices(): void;
export function testPostgresUrl(): string | undefined;
