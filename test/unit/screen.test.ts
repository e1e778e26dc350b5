import { describe, expect, it } from 'vitest';
import { screenLines } from '../helpers/tty.js';

describe('screenLines (how the terminal tests read a pty)', () => {
  it('applies carriage returns, column moves, erases and moves up as a terminal does', () => {
    // ora: frame, back to column 1, erase, next frame; then the spinner is cleared and data follows.
    const spinner = '\x1b[?25l⠋ walking keys…\x1b[1G\x1b[0K⠙ 9% · 100 of ~1,005\x1b[1G\x1b[0K\x1b[?25hKeys: 1,005\n';
    expect(screenLines(spinner)).toEqual(['Keys: 1,005', '']);
    expect(screenLines('abc\rX\n\x1b[31mred\x1b[0m\n')).toEqual(['Xbc', 'red', '']);
    expect(screenLines('one\ntwo\x1b[1A\x1b[2K\n')).toEqual(['', 'two']);
  });
});
