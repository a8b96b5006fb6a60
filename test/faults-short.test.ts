// The fault-injection suites in their short mode, inside the main `npm test` run
// (CI). `npm run test:faults` runs the same files in full mode with the numbers.
// One file on purpose: the scenarios run one after another, never two load tests at once.
process.env.FAULTS_MODE = 'short';

await import('./faults/soak.test.js');
await import('./faults/aborts.test.js');
await import('./faults/crash.test.js');
await import('./faults/full-disk.test.js');
await import('./faults/hostile.test.js');
await import('./faults/secrets.test.js');
await import('./faults/access.test.js');
await import('./faults/drain-restart.test.js');
await import('./faults/instances.test.js');
await import('./faults/numbers.test.js');
await import('./faults/upstream.test.js');
await import('./faults/callbacks.test.js');
await import('./faults/deleted-db.test.js');
