/**
 * `@azure/functions-core` for jest projects that load the app's real registration modules: jest's module
 * registry bypasses the require hook the local host installs, so the e2e project maps the module here.
 */
export = jest.requireActual<typeof import('../../local/host/functionsCore')>('../../local/host/functionsCore')
  .functionsCoreApi;
