'use strict';
// Unit tests run under node; test/dist runs the built binary; test/lab drives it inside the lab.
module.exports = {
  import: 'tsx',
  require: ['test/support/lab.ts'],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 120000,
  slow: 10000,
  exit: true,
};
