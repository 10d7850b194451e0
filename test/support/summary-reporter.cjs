'use strict';
// mocha's spec output, closed by the line this workplace's CI reads: "N passed, N failed[, N skipped]".
// Failed hooks count as failures, as they do in mocha's own exit code. Each lab file's wall time is
// printed at the end ("lab/file.test.ts took X min"), so a slow file can be named.
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;
    // A file's time runs from its first suite's start to its last suite's end (mocha runs files in turn).
    const files = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && suite.file.includes('/test/lab/') && !files.has(suite.file)) files.set(suite.file, { from: Date.now(), to: Date.now() });
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const f = suite.file && files.get(suite.file);
      if (f) f.to = Date.now();
    });
    runner.once(EVENT_RUN_END, () => {
      for (const [file, f] of files) {
        process.stdout.write(`${file.split('/').slice(-2).join('/')} took ${((f.to - f.from) / 60_000).toFixed(1)} min\n`);
      }
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const skipped = pending ? `, ${pending} skipped` : '';
      // After spec's epilogue, which is printed on the same event.
      process.nextTick(() => process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`));
    });
  }
}

module.exports = SummaryReporter;
