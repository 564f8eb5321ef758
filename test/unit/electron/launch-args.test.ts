import { describe, expect, it } from 'vitest';
import { rootsFromArgv } from '../../../main/electron/launch-args';

/** `npm start -- --root DIR` reaches the app as `electron <checkout> --root DIR`. */
describe('rootsFromArgv', () => {
  it('collects every --root, in both spellings, and ignores the rest', () => {
    expect(rootsFromArgv(['/usr/bin/electron', '/checkout', '--root', '/data/a', '--root=/data/b', '--inspect'])).toEqual(['/data/a', '/data/b']);
  });

  it('gives none when there are none, or when --root lacks a folder', () => {
    expect(rootsFromArgv(['/usr/bin/electron', '/checkout'])).toEqual([]);
    expect(rootsFromArgv(['electron', '/checkout', '--root', '--no-sandbox'])).toEqual([]);
    expect(rootsFromArgv(['electron', '/checkout', '--root'])).toEqual([]);
  });
});
