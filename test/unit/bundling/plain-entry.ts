/**
 * Bundled by test/unit/bundling/unused-modules.test.ts beside stubbed-entry.ts: a function's code
 * whose classes minifying renames.
 */
export class PlainEntryClass {}
