namespace DefectDetection.Onnx.Kernels.Gemm;

// Compile-time constants as generic arguments: a kernel instantiated per constant gets its own machine code, so that
// dynamic PGO trained on one variant (say stride 1) cannot leave another (stride 2) on a cold, un-inlined path.

/// <summary>A constant known to the JIT per generic instantiation.</summary>
internal interface IConstant
{
    /// <summary>The value.</summary>
    static abstract int Value { get; }
}

/// <summary>1 (stride 1).</summary>
internal struct Stride1 : IConstant
{
    public static int Value => 1;
}

/// <summary>2 (stride 2).</summary>
internal struct Stride2 : IConstant
{
    public static int Value => 2;
}

/// <summary>0 (a switch that is off).</summary>
internal struct Off : IConstant
{
    public static int Value => 0;
}

/// <summary>1 (a switch that is on).</summary>
internal struct On : IConstant
{
    public static int Value => 1;
}
