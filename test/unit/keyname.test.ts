import { describe, expect, it } from 'vitest';
import { keyFromJson, keyJson, keyText } from '../../src/lib/keyname.js';

describe('keyJson', () => {
  it('gives valid UTF-8 as key', () => {
    expect(keyJson(Buffer.from('user:17:profil€'))).toEqual({ key: 'user:17:profil€' });
  });
  it('gives invalid UTF-8 as base64 in key64, byte for byte', () => {
    const raw = Buffer.from([0x62, 0x3a, 0xff, 0x00, 0xfe]);
    const j = keyJson(raw);
    expect(j).toEqual({ key64: raw.toString('base64') });
    expect(keyFromJson(j)!.equals(raw)).toBe(true);
  });
});

describe('keyText', () => {
  it('passes printable text through', () => {
    expect(keyText(Buffer.from('session:abc'))).toBe('session:abc');
  });
  it('escapes control bytes, backslash and invalid UTF-8 so one key is one line', () => {
    expect(keyText(Buffer.from('a\nb\\c'))).toBe('a\\nb\\\\c');
    expect(keyText(Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x00, 0xfe]))).toBe('bin:\\xff\\x00\\xfe');
    expect(keyText(Buffer.from([0xc3, 0xa9, 0xc3]))).toBe('é\\xc3');
  });
});

describe('keyFromText and patternFromText: the printed form back to bytes', async () => {
  const { keyFromText, keyText, patternFromText } = await import('../../src/lib/keyname.js');
  it('round-trips every key keyText prints', () => {
    for (const key of [Buffer.from('plain:key'), Buffer.from([0x62, 0xff, 0x00, 0x0a, 0x5c, 0x09, 0x0d, 0x7f]), Buffer.from('héllo ✓ 🎉\\x'), Buffer.from([0xc3, 0x28])]) {
      expect(keyFromText(keyText(key))).toEqual(key);
    }
  });
  it('in a pattern, escaped bytes match literally and glob escapes keep their meaning', () => {
    expect(patternFromText('a\\\\b*')).toEqual(Buffer.from('a\\\\b*'));
    expect(patternFromText('x\\x2a')).toEqual(Buffer.from('x\\*'));
    expect(patternFromText('star\\*')).toEqual(Buffer.from('star\\*'));
    expect(patternFromText('bin:\\xff\\x00')).toEqual(Buffer.from([0x62, 0x69, 0x6e, 0x3a, 0xff, 0x00]));
  });
});
