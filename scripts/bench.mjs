// `npm run bench`: every benchmark, one after the other (each prints its own table).
// BENCH_QUICK=1 npm run bench: each in its quick mode (smallest sizes), as `npm test` runs them.
import { BENCHES, run, step } from './lib.mjs';

for (const name of BENCHES) {
  step(`bench:${name}`);
  run('npm', ['run', '-s', `bench:${name}`]);
}
