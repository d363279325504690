import fc from 'fast-check';
import { MAX_AMOUNT } from '../../functions/domain/money.ts';
import { type Json, RawNumber } from './json-text.ts';

/**
 * Object keys that JavaScript's built-in objects already have: a body or a metadata map keyed
 * `__proto__`, `constructor` or `then` is where a parser, a validator or a spread goes wrong.
 */
export const builtinNames: readonly string[] = [
  ...new Set(
    [
      Object.prototype,
      Function.prototype,
      Array.prototype,
      String.prototype,
      Number.prototype,
      Boolean.prototype,
      Promise.prototype,
      RegExp.prototype,
      Date.prototype,
      Error.prototype,
      Map.prototype,
      Set.prototype,
      Object,
      Array,
      JSON,
      Math,
      Reflect,
    ].flatMap((target) => Object.getOwnPropertyNames(target)),
  ),
].sort();

/** Numbers at every edge, as JSON text: the ones JSON.stringify can write and the ones it cannot. */
export const edgeNumberTexts: readonly string[] = [
  '0', '-0', '1', '-1', '0.5', '1e-7', '0.1e1', '1.0', '1E2', '-0.0',
  String(2 ** 31), String(2 ** 31 - 1), String(2 ** 32),
  String(Number.MAX_SAFE_INTEGER), '9007199254740992', '9007199254740994',
  String(MAX_AMOUNT - 1), String(MAX_AMOUNT), String(MAX_AMOUNT + 1), `${MAX_AMOUNT}.5`,
  '49', '50', '51', '999999999', '1000000000', '1000000001', '10000', '10001',
  '1e308', '1.7976931348623157e308', '1e400', '-1e400', '4.9e-324', '1e-400', '123456789012345678901234567890',
];

export const edgeNumber: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.constantFrom(...edgeNumberTexts).map((text) => new RawNumber(text)), weight: 4 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
);

const LONE = ['\ud800', '\udbff', '\udc00', '\udfff'];
const SPECIAL_UNITS = [
  ...LONE,
  '\u0000', '\u0007', '\u001f', '\u007f', '\u200f', '\u202e', '\u2028', '\ufeff', '\ufffd', '\ufffe', '\uffff',
  '\u0301', '😀', '👩‍👩‍👧', 'é', 'ß', 'İ', '\t', '\n', ' ', '"', '\\', '[', ']', '%', '/', '.', '&', '=', '+', '?', '#',
];

/** One UTF-16 code unit of any value, or a unit worth trying on purpose. */
const codeUnit = fc.oneof(
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), weight: 4 },
  { arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), weight: 2 },
  { arbitrary: fc.constantFrom(...SPECIAL_UNITS), weight: 2 },
);

/** Strings over the full UTF-16 code unit range: lone surrogates, NUL, RTL marks, emoji, and very long ones. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: codeUnit, maxLength: 24 }), weight: 6 },
  { arbitrary: fc.constantFrom(...builtinNames), weight: 1 },
  {
    arbitrary: fc
      .tuple(fc.constantFrom(1, 40, 41, 64, 65, 200, 201, 254, 255, 256, 500, 501, 1000, 1001, 5001, 70_000), fc.constantFrom('a', 'é', '\ud800', '😀', ' '))
      .map(([length, unit]) => unit.repeat(length)),
    weight: 1,
  },
);

/** Any JSON value whose keys are often the names of built-ins. */
export const anyJson: fc.Arbitrary<Json> = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    edgeNumber,
    anyString,
    fc.array(tie('value'), { maxLength: 4 }),
    fc
      .array(fc.tuple(fc.oneof(anyString, fc.constantFrom(...builtinNames)), tie('value')), { maxLength: 4 })
      .map((entries) => Object.fromEntries(entries) as Json),
  ),
})).value;

/** A value for a field, from the worst of every JSON type. */
export const edgeValue: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: edgeNumber, weight: 3 },
  { arbitrary: anyString, weight: 3 },
  { arbitrary: fc.constantFrom<Json>(null, true, false, [], {}, ''), weight: 2 },
  { arbitrary: anyJson, weight: 1 },
);
