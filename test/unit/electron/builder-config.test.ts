import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// electron-builder.yml, loaded and schema-checked by electron-builder's own code (the same calls
// `electron-builder` makes before packaging), so a typo fails here and not on a release machine.
const require = createRequire(import.meta.url);
const builderLib = join(require.resolve('electron-builder/package.json'), '..', '..', 'app-builder-lib');
const { getConfig, validateConfiguration } = require(join(builderLib, 'out/util/config/config.js'));
const { DebugLogger } = require(require.resolve('builder-util', { paths: [builderLib] }));
const ROOT = join(import.meta.dirname, '..', '..', '..');

interface Config {
  appId: string;
  productName: string;
  files: (string | { filter: string[] })[];
  asar: boolean;
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[] };
  mac: { target: string };
  win: { target: string };
}

async function load(): Promise<Config> {
  return getConfig(ROOT, join(ROOT, 'electron-builder.yml'), null);
}

describe('electron-builder.yml', () => {
  it('passes electron-builder validation', async () => {
    const config = await load();
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, asarUnpak: [] }, new DebugLogger(false))).rejects.toThrow(/asarUnpak/);
  });

  it('names the app and builds AppImage + deb, dmg and nsis', async () => {
    const config = await load();
    expect(config.appId).toMatch(/^[a-z0-9.-]+$/);
    expect(config.productName).toBe('DenseNet Workbench');
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.mac.target).toBe('dmg');
    expect(config.win.target).toBe('nsis');
  });

  it('packs a whitelist into asar with native modules unpacked', async () => {
    const config = await load();
    expect(config.asar).toBe(true);
    // getConfig normalises the list into file sets.
    const files = config.files.flatMap((f) => (typeof f === 'string' ? [f] : f.filter));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/renderer/**', 'dist-electron/**']));
    expect(files.some((f: string) => f === '**/*' || f.startsWith('main/') || f.startsWith('test/'))).toBe(false);
    for (const native of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'sharp', '@img']) {
      expect(config.asarUnpack).toContain(`**/node_modules/${native}/**`);
    }
    // Python reads files from disk only: the PyTorch engine's package is unpacked.
    expect(config.asarUnpack).toContain('dist-electron/**/densenet_torch/**');
  });

  it('turns off the fuses the app does not need (checklist #19)', async () => {
    const { electronFuses } = await load();
    expect(electronFuses).toMatchObject({ runAsNode: false, enableNodeOptionsEnvironmentVariable: false, enableNodeCliInspectArguments: false, onlyLoadAppFromAsar: true });
  });

  it('points package.json main at the bundle the build writes', async () => {
    const pkg = require(join(ROOT, 'package.json'));
    expect(pkg.main).toBe('dist-electron/main/electron/main.js');
    expect(pkg.scripts.dist).toMatch(/electron-builder --config electron-builder.yml/);
  });
});
