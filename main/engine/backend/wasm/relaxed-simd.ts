/**
 * Whether this runtime runs relaxed SIMD (f32x4.relaxed_madd). V8 ships it on by default from 11.4:
 * Node >= 22 and Electron. Node 20 (V8 11.3) has it behind --experimental-wasm-relaxed-simd, which
 * the hosts pass to the trainer process they start (see relaxedSimdNodeFlags).
 */
import { WA } from './wasm-api';

// (module (func (param v128 v128 v128) (result v128) local.get 0 local.get 1 local.get 2 f32x4.relaxed_madd))
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

export function relaxedSimdSupported(): boolean {
  try {
    return (WA as unknown as { validate(b: Uint8Array): boolean }).validate(PROBE);
  } catch {
    return false;
  }
}

/** The V8 flag a Node child process needs for relaxed SIMD, if this Node has it behind one. */
export function relaxedSimdNodeFlags(nodeVersion = process.versions.node): string[] {
  const major = Number(nodeVersion.split('.')[0]);
  return major >= 20 && major < 22 ? ['--experimental-wasm-relaxed-simd'] : [];
}

export type SimdFlavour = 'relaxed' | 'plain';

/**
 * Which kernel build to load: relaxed where the runtime validates it, unless
 * WORKBENCH_WASM_SIMD=plain asks for the plain build (benchmarks and tests compare the two).
 */
export function chooseSimdFlavour(env: NodeJS.ProcessEnv = process.env): { flavour: SimdFlavour; note?: string } {
  const forced = env['WORKBENCH_WASM_SIMD'];
  if (forced === 'plain') return { flavour: 'plain', note: 'WORKBENCH_WASM_SIMD=plain' };
  if (relaxedSimdSupported()) return { flavour: 'relaxed' };
  return { flavour: 'plain', note: `this runtime (Node ${process.versions.node}) has no relaxed SIMD${relaxedSimdNodeFlags().length ? '; start it with --experimental-wasm-relaxed-simd' : ''}` };
}
