'use strict';
// mocha's spec output, closed by the line this workplace's CI reads: "N passed, N failed[, N skipped]".
// Failed hooks count as failures, as they do in mocha's own exit code. Each lab file's wall time is
// printed when its last test ends ("file took X min"), so a slow file can be named.
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END } = Mocha.Runner.constants;
    const started = new Map();
    runner.on(EVENT_SUITE_BEGIN, (suite) => {
      if (suite.file && !started.has(suite.file)) started.set(suite.file, { at: Date.now(), open: 0 });
      if (suite.file) started.get(suite.file).open += 1;
    });
    runner.on(EVENT_SUITE_END, (suite) => {
      const f = suite.file && started.get(suite.file);
      if (!f || --f.open > 0 || !suite.file.includes('/test/lab/')) return;
      const name = suite.file.split('/').slice(-2).join('/');
      process.stdout.write(`      ${name} took ${((Date.now() - f.at) / 60_000).toFixed(1)} min\n`);
    });
    runner.once(EVENT_RUN_END, () => {
      const { passes = 0, failures = 0, pending = 0 } = runner.stats || {};
      const skipped = pending ? `, ${pending} skipped` : '';
      // After spec's epilogue, which is printed on the same event.
      process.nextTick(() => process.stdout.write(`${passes} passed, ${failures} failed${skipped}\n`));
    });
  }
}

module.exports = SummaryReporter;
