/*
 * Shared by every kernel family of this project's SIMD128 training kernels for tfjs-backend-wasm.
 *
 * Each module built from these files imports tfjs-backend-wasm's own linear memory, so every
 * pointer is a byte offset into tfjs' heap and the kernels read and write tensors in place, with
 * no copies. For that to be safe a module must own nothing in that memory: no data segments, no
 * globals in memory, and no shadow-stack use (no address-taken locals, no arrays on the stack, no
 * libc). build.sh checks the built modules for a __stack_pointer use and for data segments.
 *
 * Layouts are TF.js' channels-last: an activation is [P, C] with P = N*H*W rows of C channels.
 */
#ifndef DNW_COMMON_H
#define DNW_COMMON_H
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

typedef __SIZE_TYPE__ size_t;

/*
 * a * b + c. With relaxed SIMD (the kernels-relaxed*.wasm builds) this is f32x4.relaxed_madd, a
 * fused multiply-add where the CPU has one (one rounding instead of two: results move by at most
 * an ulp per step); the plain builds keep the separate multiply and add.
 */
#ifdef __wasm_relaxed_simd__
#define F32X4_MADD(a, b, c) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(c)))
#else
#define F32X4_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

#endif
