// `npm run bench`: every benchmark, one after the other (each prints its own table).
import { run, step } from './lib.mjs';

for (const name of ['sandbox', 'registry', 'engine', 'web', 'layers', 'workshop']) {
  step(`bench:${name}`);
  run('npm', ['run', '-s', `bench:${name}`]);
}
