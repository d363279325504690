/**
 * Bundled by test/unit/bundling/unused-modules.test.ts beside stubbed-entry.ts: a function's code
 * that holds no stripe, whose classes minifying may rename.
 */
export class PlainEntryClass {}
