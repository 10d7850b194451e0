'use strict';
// Unit tests run under node; lab tests drive dist/lvskit inside the lab (see lab/README.md).
module.exports = {
  import: 'tsx',
  spec: ['test/unit/**/*.test.ts', 'test/lab/**/*.test.ts'],
  reporter: './test/support/summary-reporter.cjs',
  timeout: 120000,
  slow: 5000,
  exit: true,
};
