/**
 * The dataset roots the app was started with: `--root DIR` (or `--root=DIR`), repeatable, as
 * `npm start -- --root DIR` passes them on. They seed the in-app folder browser; the native
 * folder picker is not confined to them. Empty when none were given.
 */
export function rootsFromArgv(argv: readonly string[]): string[] {
  const roots: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root' && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) roots.push(argv[++i]);
    else if (argv[i].startsWith('--root=')) roots.push(argv[i].slice('--root='.length));
  }
  return roots;
}
