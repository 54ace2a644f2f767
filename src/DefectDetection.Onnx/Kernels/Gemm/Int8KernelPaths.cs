namespace DefectDetection.Onnx.Kernels.Gemm;

/// <summary>
/// The optional fast paths of the int8 GEMM and convolution. Each computes exactly the bytes of the path beneath it;
/// sessions use <see cref="All"/>. Tests and benchmarks give one kernel fewer (when a <c>Conv2dInt8</c> is created,
/// or per <see cref="QGemm"/> run) to check or time the path beneath, without affecting any other kernel.
/// </summary>
[Flags]
internal enum Int8KernelPaths
{
    /// <summary>Only the paths beneath: full-panel edges, int32-lane packing, vpmovdb, image-by-image, ring-free rows.</summary>
    None = 0,

    /// <summary>GEMM: narrow last panels (up to 24 columns) multiplied in 8-column slices rather than at the full 32.</summary>
    NarrowEdge = 1,

    /// <summary>GEMM: u8 panels packed by interleaving rows as bytes before widening (AVX-512BW) rather than through int32 lanes.</summary>
    BytePairPack = 2,

    /// <summary>GEMM: requantized rows narrowed by one byte permute (AVX512-VBMI) rather than vpmovdb.</summary>
    VbmiNarrowing = 4,

    /// <summary>Pointwise convolution: a batch of small planes convolved as one GEMM rather than image by image.</summary>
    BatchPacking = 8,

    /// <summary>Depthwise convolution: stride-1 input rows wider than 16 widened to float once, into a ring of rows, rather than on every pass.</summary>
    RowRing = 16,

    /// <summary>Every path the hardware supports (what sessions use).</summary>
    All = NarrowEdge | BytePairPack | VbmiNarrowing | BatchPacking | RowRing,
}
