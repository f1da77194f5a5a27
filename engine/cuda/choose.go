// This file holds the names of the kernels the backend launches and the
// choice of matrix-product kernel, a pure function of the weight type, the
// device's compute capability and the batch size, so it is tested without a
// GPU.
package cuda

import "github.com/helexa/helexa/gguf"

// weightSuffix maps each weight type with kernels to its entry-name suffix
// (kernels/common.cuh FOR_EACH_WEIGHT_TYPE).
var weightSuffix = map[gguf.Type]string{
	gguf.TypeF32:  "f32",
	gguf.TypeF16:  "f16",
	gguf.TypeBF16: "bf16",
	gguf.TypeQ8_0: "q8_0",
	gguf.TypeQ4_0: "q4_0",
	gguf.TypeQ4_K: "q4_k",
	gguf.TypeQ5_K: "q5_k",
	gguf.TypeQ6_K: "q6_k",
}

// weightTypes lists the supported weight types in a fixed order.
var weightTypes = []gguf.Type{
	gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16, gguf.TypeQ8_0,
	gguf.TypeQ4_0, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
}

// Supported reports whether the CUDA kernels handle weights of type t.
func Supported(t gguf.Type) bool { _, ok := weightSuffix[t]; return ok }

// Kernel names that do not depend on the weight type.
const (
	kRMSNorm    = "rmsnorm_f32"
	kRoPE       = "rope_neox_f32"
	kSwiGLU     = "swiglu_f32"
	kAdd        = "add_f32"
	kCopyRows   = "copy_rows_f32"
	kKVStoreF16 = "kv_store_f16"
	kKVStoreF32 = "kv_store_f32"
	kAttnF16    = "attn_split_f16"
	kAttnF32    = "attn_split_f32"
	kAttnReduce = "attn_reduce_f32"
	kArgmax     = "argmax_f32"
)

func embedKernel(t gguf.Type) string  { return "embed_" + weightSuffix[t] }
func matvecKernel(t gguf.Type) string { return "matvec_" + weightSuffix[t] + "_f32" }
func matmulKernel(t gguf.Type) string { return "matmul_" + weightSuffix[t] + "_f32" }

// kernelNames lists every kernel the backend may launch; opening a device
// resolves them all, and a test checks each is an .entry of every PTX file.
func kernelNames() []string {
	names := []string{kRMSNorm, kRoPE, kSwiGLU, kAdd, kCopyRows, kKVStoreF16, kKVStoreF32,
		kAttnF16, kAttnF32, kAttnReduce, kArgmax}
	for _, t := range weightTypes {
		names = append(names, embedKernel(t), matvecKernel(t), matmulKernel(t))
	}
	return names
}

// KernelNames returns the names of every kernel the backend launches.
func KernelNames() []string { return kernelNames() }

// kernelKind says how a matrix-product kernel is launched.
type kernelKind int

const (
	kindNone   kernelKind = iota // no kernel for the weight type
	kindMatVec                   // matvec.cu: one warp per output row, MV_ROWS batch rows per block
	kindMatMul                   // matmul.cu: 64x64 tensor-core tiles
)

// kernel is a chosen matrix-product kernel.
type kernel struct {
	name string
	kind kernelKind
}

// Launch shapes of the matrix kernels (kernels/matvec.cu MV_WARPS, MV_ROWS;
// kernels/matmul.cu MM_BM, MM_BN, MM_THREADS).
const (
	mvWarps   = 4
	mvRows    = 8
	mmTile    = 64
	mmThreads = 128
)

// matvecMaxRows is the largest batch that takes the matrix-vector kernel: it
// reads the weights once per mvRows batch rows, so beyond one such group the
// tensor-core kernel, which reads them once per 64 rows, moves fewer bytes.
const matvecMaxRows = mvRows

// mmaMinCC is the compute capability of mma.sync.m16n8k16 with f16 inputs
// and f32 accumulation in the form matmul.cu uses (sm_80, Ampere).
const mmaMinCC = 80

// chooseMatMul picks the kernel for dst[nRows, ne1] = x[nRows, ne0] · Wᵀ with
// W of type typ on a device of compute capability cc.
func chooseMatMul(typ gguf.Type, cc, nRows int) kernel {
	if !Supported(typ) || nRows <= 0 {
		return kernel{}
	}
	// F32 weights stay on the f32 kernel at every batch size: the tensor-core
	// kernel rounds its operands to f16, which F32 models are chosen to avoid
	// (llama.cpp multiplies them in f32; the reference tolerance is 1e-4).
	if nRows <= matvecMaxRows || cc < mmaMinCC || typ == gguf.TypeF32 {
		return kernel{name: matvecKernel(typ), kind: kindMatVec}
	}
	return kernel{name: matmulKernel(typ), kind: kindMatMul}
}

// launchShape returns the grid and block of kernel k for the product.
func (k kernel) launchShape(ne1, nRows int) (grid, block dim3) {
	switch k.kind {
	case kindMatVec:
		return dim3{uint32((ne1 + mvWarps - 1) / mvWarps), uint32((nRows + mvRows - 1) / mvRows), 1},
			dim3{mvWarps * 32, 1, 1}
	case kindMatMul:
		return dim3{uint32((ne1 + mmTile - 1) / mmTile), uint32((nRows + mmTile - 1) / mmTile), 1},
			dim3{mmThreads, 1, 1}
	}
	panic("cuda: launch shape of no kernel")
}
