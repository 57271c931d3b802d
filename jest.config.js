module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/test/**/*.test.js'],
  testTimeout: 120000,
  // Every core: jest's default leaves one idle, which on a 2-core machine runs the
  // suites one at a time, though most tests use one thread (6 min against 3.7).
  maxWorkers: '100%',
};
