// WebKitGTK (the desktop window on Linux) reports the POSIX locale as the browser's language
// when LANG is "C" or unset: `navigator.language` is "C", which `Intl` refuses with a
// RangeError. uPlot makes its number format from it as it loads, so such a window stayed
// blank. This module runs first (main.ts imports it before anything else) and gives such a
// browser a valid language instead.

/** Whether `tag` is a language tag `Intl` accepts. */
export function isValidLocale(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    return Intl.getCanonicalLocales(tag).length === 1;
  } catch {
    return false;
  }
}

export const FALLBACK_LOCALE = 'en-US';

if (typeof navigator !== 'undefined' && !isValidLocale(navigator.language)) {
  Object.defineProperty(navigator, 'language', { value: FALLBACK_LOCALE, configurable: true });
  Object.defineProperty(navigator, 'languages', { value: [FALLBACK_LOCALE], configurable: true });
}
