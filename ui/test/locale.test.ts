import { describe, expect, it } from 'vitest';
import { isValidLocale } from '../src/locale';

describe('isValidLocale', () => {
  it('refuses the POSIX names WebKitGTK passes through, and nothing at all', () => {
    for (const bad of ['C', 'C.UTF-8', 'en_US.UTF-8', '', undefined]) expect(isValidLocale(bad), String(bad)).toBe(false);
  });
  it('takes real language tags', () => {
    for (const good of ['en', 'en-US', 'de-DE', 'zh-Hant-TW']) expect(isValidLocale(good), good).toBe(true);
  });
});
