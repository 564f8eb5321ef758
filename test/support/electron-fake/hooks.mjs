// Node module hooks: `import ... from 'electron'` resolves to ./electron.mjs, a recording stand-in,
// so the real main-process bundle can run under plain Node where Electron's binary is absent.
const FAKE = new URL('./electron.mjs', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: FAKE, shortCircuit: true };
  return next(specifier, context);
}
