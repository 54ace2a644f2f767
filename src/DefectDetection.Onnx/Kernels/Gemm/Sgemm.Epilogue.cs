using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DefectDetection.Onnx.Kernels.Gemm;

// The fused epilogue of the widest micro-kernel: on the last k block the accumulators get the bias and the activation
// in registers before they are stored, instead of a second and third pass over the C tile.
internal static unsafe partial class Sgemm
{
    /// <summary>What the micro-kernel does to a finished accumulator before storing it (one type per activation).</summary>
    internal interface IEpilogue
    {
        /// <summary>False: store the accumulators as they are (bias and activation, if any, come later).</summary>
        static abstract bool Enabled { get; }

        /// <summary>The activation of one vector (the bias already added).</summary>
        static abstract Vector512<float> Apply(Vector512<float> v, in ActivationParams act);
    }

    /// <summary>No epilogue (not the last k block, or no fusion).</summary>
    internal struct NoEpilogue : IEpilogue
    {
        public static bool Enabled => false;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => v;
    }

    /// <summary>Bias only.</summary>
    internal struct EpiIdentity : IEpilogue
    {
        public static bool Enabled => true;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => v;
    }

    /// <summary>Bias, then ReLU.</summary>
    internal struct EpiRelu : IEpilogue
    {
        public static bool Enabled => true;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => Vector512.Max(v, Vector512<float>.Zero);
    }

    /// <summary>Bias, then SiLU.</summary>
    internal struct EpiSilu : IEpilogue
    {
        public static bool Enabled => true;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => FastActivations.Silu512(v);
    }

    /// <summary>Bias, then Sigmoid.</summary>
    internal struct EpiSigmoid : IEpilogue
    {
        public static bool Enabled => true;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => FastActivations.Sigmoid512(v);
    }

    /// <summary>Bias, then any other activation that has a vector form (chosen per call).</summary>
    internal struct EpiOther : IEpilogue
    {
        public static bool Enabled => true;

        public static Vector512<float> Apply(Vector512<float> v, in ActivationParams act) => FastActivations.Activate512(act, v);
    }

    /// <summary>Where the 512-bit micro-kernel finds row k of its B panel.</summary>
    internal interface IBLayout
    {
        /// <summary>The 32 values of row <paramref name="k"/>.</summary>
        static abstract float* Row(float* b, int* off, int k);
    }

    /// <summary>Packed panels: 32 consecutive values per k.</summary>
    internal struct BPanels : IBLayout
    {
        public static float* Row(float* b, int* off, int k) => b + (k * 32);
    }

    /// <summary>In place: row k starts at b + off[k] (implicit GEMM on a padded image).</summary>
    internal struct BOffsets : IBLayout
    {
        public static float* Row(float* b, int* off, int k) => b + off[k];
    }

    /// <summary>Whether the 512-bit micro-kernel can apply this activation in registers.</summary>
    internal static bool CanFuse(FusedActivation kind) => kind != FusedActivation.Tanh;

    /// <summary>Combines one row of accumulators with C (per store mode), adds the biases, activates and stores.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FinishRow512<TEpi>(float* c, Vector512<float> v0, Vector512<float> v1, int mode, float beta,
                                           Vector512<float> rowBias, Vector512<float> col0, Vector512<float> col1,
                                           in ActivationParams act)
        where TEpi : struct, IEpilogue
    {
        if (mode == ModeAdd)
        {
            v0 += Vector512.Load(c);
            v1 += Vector512.Load(c + 16);
        }
        else if (mode == ModeBeta)
        {
            v0 = Fma512(Vector512.Create(beta), Vector512.Load(c), v0);
            v1 = Fma512(Vector512.Create(beta), Vector512.Load(c + 16), v1);
        }

        Vector512.Store(TEpi.Apply(v0 + rowBias + col0, act), c);
        Vector512.Store(TEpi.Apply(v1 + rowBias + col1, act), c + 16);
    }

    /// <summary>Adds the biases to and activates the rows x cols corner of C (edge tiles of the fused path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishPartial(float* c, int ldc, int rows, int cols, float* biasRow, float* biasCol, in ActivationParams act)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = new Span<float>(c + ((long)r * ldc), cols);
            if (biasRow != null)
            {
                TensorPrimitives.Add(row, biasRow[r], row);
            }

            if (biasCol != null)
            {
                TensorPrimitives.Add(row, new ReadOnlySpan<float>(biasCol, cols), row);
            }

            act.Apply(row);
        }
    }

    /// <summary>
    /// The 512-bit micro-kernel with the bias (per row and/or per column, either may be null) and the activation
    /// applied before the store; for the last k block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void MicroKernelFused(int kc, float* a, float* b, int* off, float* c, int ldc, int rows, int cols, int mode, float beta,
                                          float* biasRow, float* biasCol, in ActivationParams act)
    {
        if (off != null)
        {
            MicroKernelFused<BOffsets>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
            return;
        }

        if (rows == 1)
        {
            Kernel512Row1(kc, a, b, c, cols, mode, beta);
            FinishPartial(c, ldc, rows, cols, biasRow, biasCol, act);
            return;
        }

        MicroKernelFused<BPanels>(kc, a, b, null, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
    }

    // Picks the epilogue specialisation for the activation (one generic instantiation per activation and B layout).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void MicroKernelFused<TB>(int kc, float* a, float* b, int* off, float* c, int ldc, int rows, int cols, int mode, float beta,
                                             float* biasRow, float* biasCol, in ActivationParams act)
        where TB : struct, IBLayout
    {
        switch (act.Kind)
        {
            case FusedActivation.None:
                Kernel512<EpiIdentity, TB>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
                break;
            case FusedActivation.Relu:
                Kernel512<EpiRelu, TB>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
                break;
            case FusedActivation.Silu:
                Kernel512<EpiSilu, TB>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
                break;
            case FusedActivation.Sigmoid:
                Kernel512<EpiSigmoid, TB>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
                break;
            default:
                Kernel512<EpiOther, TB>(kc, a, b, off, c, ldc, rows, cols, mode, beta, biasRow, biasCol, act);
                break;
        }
    }
}
