/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      // The local host's tests load function apps; their registrations reach the host through this stand-in.
      moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/test/helpers/functionsCoreStandIn.ts' },
      globalSetup: '<rootDir>/test/integration/globalSetup.ts',
      globalTeardown: '<rootDir>/test/integration/globalTeardown.ts',
    },
    {
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      transform,
      // The app's registrations reach the local host through this stand-in (see the file).
      moduleNameMapper: { '^@azure/functions-core$': '<rootDir>/test/helpers/functionsCoreStandIn.ts' },
      testEnvironment: 'node',
    },
  ],
};
