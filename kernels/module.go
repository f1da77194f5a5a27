// This file picks the module image the CUDA backend hands to the driver
// (cuModuleLoadDataEx): the fatbin when the build embedded one, else the
// PTX for the device.
package kernels

// Module returns the module image for a device of compute capability cc
// (major*10 + minor) and a name for it in messages. With a fatbin embedded
// (a build host with nvcc) the image is the fatbin, and the driver picks the
// cubin made for the device's capability when there is one, else JIT-compiles
// the fatbin's PTX. Without one it is PTX(cc), which the driver
// JIT-compiles. image is nil when the device is older than every PTX file.
func Module(cc int) (name string, image []byte) {
	arch, src := PTX(cc)
	if src == nil || len(fatbin) == 0 {
		return arch, src
	}
	return "fatbin(" + fatbinArchs + ")", fatbin
}
