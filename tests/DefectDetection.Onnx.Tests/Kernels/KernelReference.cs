namespace DefectDetection.Onnx.Tests.Kernels;

/// <summary>Plain scalar references for the fast kernels, written independently of them (double accumulation).</summary>
internal static class KernelReference
{
    /// <summary>C = alpha*op(A)*op(B) + beta*C; also returns sum |a*b| per element for tolerances.</summary>
    public static (float[] C, double[] Magnitude) Gemm(bool transA, bool transB, int M, int N, int K, float alpha,
        float[] A, int lda, float[] B, int ldb, float beta, float[] C, int ldc)
    {
        var result = (float[])C.Clone();
        var mag = new double[C.Length];
        for (int m = 0; m < M; m++)
        {
            for (int n = 0; n < N; n++)
            {
                double sum = 0, abs = 0;
                for (int k = 0; k < K; k++)
                {
                    double a = transA ? A[(k * lda) + m] : A[(m * lda) + k];
                    double b = transB ? B[(n * ldb) + k] : B[(k * ldb) + n];
                    sum += a * b;
                    abs += Math.Abs(a * b);
                }

                double v = alpha * sum;
                if (beta != 0)
                {
                    v += beta * C[(m * ldc) + n];
                    abs += Math.Abs(beta * C[(m * ldc) + n]);
                }

                result[(m * ldc) + n] = (float)v;
                mag[(m * ldc) + n] = Math.Abs(alpha) * abs;
            }
        }

        return (result, mag);
    }

    public static float Activate(float v, Onnx.Kernels.Gemm.ActivationParams act) => act.Kind switch
    {
        Onnx.Kernels.Gemm.FusedActivation.None => v,
        Onnx.Kernels.Gemm.FusedActivation.Relu => v < 0 ? 0 : v,
        Onnx.Kernels.Gemm.FusedActivation.Clip => Math.Min(Math.Max(v, act.A), act.B),
        Onnx.Kernels.Gemm.FusedActivation.LeakyRelu => v < 0 ? act.A * v : v,
        Onnx.Kernels.Gemm.FusedActivation.Sigmoid => (float)(1 / (1 + Math.Exp(-v))),
        Onnx.Kernels.Gemm.FusedActivation.HardSigmoid => (float)Math.Max(0, Math.Min(1, (act.A * (double)v) + act.B)),
        Onnx.Kernels.Gemm.FusedActivation.HardSwish => (float)(v * Math.Max(0, Math.Min(1, (v / 6.0) + 0.5))),
        Onnx.Kernels.Gemm.FusedActivation.Tanh => (float)Math.Tanh(v),
        Onnx.Kernels.Gemm.FusedActivation.Silu => (float)(v / (1 + Math.Exp(-v))),
        _ => throw new ArgumentOutOfRangeException(nameof(act)),
    };

    /// <summary>NCHW float convolution with bias; returns output and per-element magnitude.</summary>
    public static (float[] Out, double[] Magnitude) Conv(Onnx.Kernels.Conv.Conv2dShape s, float[] x, int batch, int inH, int inW,
        float[] w, float[]? bias)
    {
        int outH = ((inH + s.PadTop + s.PadBottom - (s.DilationH * (s.KernelH - 1)) - 1) / s.StrideH) + 1;
        int outW = ((inW + s.PadLeft + s.PadRight - (s.DilationW * (s.KernelW - 1)) - 1) / s.StrideW) + 1;
        int cg = s.InChannels / s.Group, mg = s.OutChannels / s.Group;
        var y = new float[batch * s.OutChannels * outH * outW];
        var mag = new double[y.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int m = 0; m < s.OutChannels; m++)
            {
                int g = m / mg;
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        double sum = bias is null ? 0 : bias[m], abs = Math.Abs(sum);
                        for (int c = 0; c < cg; c++)
                        {
                            for (int ky = 0; ky < s.KernelH; ky++)
                            {
                                for (int kx = 0; kx < s.KernelW; kx++)
                                {
                                    int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                                    int ix = (ox * s.StrideW) - s.PadLeft + (kx * s.DilationW);
                                    if (iy < 0 || iy >= inH || ix < 0 || ix >= inW)
                                    {
                                        continue;
                                    }

                                    double p = (double)x[(((b * s.InChannels) + (g * cg) + c) * inH * inW) + (iy * inW) + ix]
                                               * w[(((m * cg) + c) * s.KernelH * s.KernelW) + (ky * s.KernelW) + kx];
                                    sum += p;
                                    abs += Math.Abs(p);
                                }
                            }
                        }

                        int o = (((b * s.OutChannels) + m) * outH * outW) + (oy * outW) + ox;
                        y[o] = (float)sum;
                        mag[o] = abs;
                    }
                }
            }
        }

        return (y, mag);
    }

    /// <summary>Integer NCHW convolution: int32 accumulators (bias included) with zero points.</summary>
    public static int[] ConvInteger(Onnx.Kernels.Conv.Conv2dShape s, byte[] x, byte xZero, int batch, int inH, int inW,
        sbyte[] w, int[] wZero, int[]? bias)
    {
        int outH = ((inH + s.PadTop + s.PadBottom - (s.DilationH * (s.KernelH - 1)) - 1) / s.StrideH) + 1;
        int outW = ((inW + s.PadLeft + s.PadRight - (s.DilationW * (s.KernelW - 1)) - 1) / s.StrideW) + 1;
        int cg = s.InChannels / s.Group, mg = s.OutChannels / s.Group;
        var y = new int[batch * s.OutChannels * outH * outW];
        for (int b = 0; b < batch; b++)
        {
            for (int m = 0; m < s.OutChannels; m++)
            {
                int g = m / mg;
                int wz = wZero.Length == 1 ? wZero[0] : wZero[m];
                for (int oy = 0; oy < outH; oy++)
                {
                    for (int ox = 0; ox < outW; ox++)
                    {
                        long sum = bias is null ? 0 : bias[m];
                        for (int c = 0; c < cg; c++)
                        {
                            for (int ky = 0; ky < s.KernelH; ky++)
                            {
                                for (int kx = 0; kx < s.KernelW; kx++)
                                {
                                    int iy = (oy * s.StrideH) - s.PadTop + (ky * s.DilationH);
                                    int ix = (ox * s.StrideW) - s.PadLeft + (kx * s.DilationW);
                                    int xv = (iy < 0 || iy >= inH || ix < 0 || ix >= inW)
                                        ? xZero
                                        : x[(((b * s.InChannels) + (g * cg) + c) * inH * inW) + (iy * inW) + ix];
                                    sum += (long)(xv - xZero) * (w[(((m * cg) + c) * s.KernelH * s.KernelW) + (ky * s.KernelW) + kx] - wz);
                                }
                            }
                        }

                        y[(((b * s.OutChannels) + m) * outH * outW) + (oy * outW) + ox] = checked((int)sum);
                    }
                }
            }
        }

        return y;
    }

    /// <summary>ONNX-style requantization in double then float-rounded like MLAS: round half to even, saturate.</summary>
    public static int Requantize(int acc, float scale, int zeroPoint, int min, int max)
    {
        float v = acc * scale; // float32 product, as MLAS
        double r = Math.Round((double)v, MidpointRounding.ToEven) + zeroPoint;
        return (int)Math.Max(min, Math.Min(max, r));
    }

    /// <summary>
    /// Asserts that <paramref name="y"/> holds <paramref name="expected32"/> (NCHW int32 accumulators, <paramref name="channels"/>
    /// output channels) requantised with <see cref="Requantize"/>, and that the guard byte after it is still
    /// <paramref name="guard"/>.
    /// </summary>
    public static void AssertRequantized(int[] expected32, byte[] y, int images, int channels, float[] scales, bool perChannel, int zeroPoint,
                                         int? min, int? max, bool signedOut, string what, byte guard = 0xA5)
    {
        int plane = expected32.Length / (images * channels);
        for (int j = 0; j < expected32.Length; j++)
        {
            int m = (j / plane) % channels;
            int e = Requantize(expected32[j], perChannel ? scales[m] : scales[0], zeroPoint,
                min ?? (signedOut ? -128 : 0), max ?? (signedOut ? 127 : 255));
            int a = signedOut ? (sbyte)y[j] : y[j];
            Xunit.Assert.True(e == a, $"{what} at {j} (acc {expected32[j]}): expected {e}, got {a}");
        }

        Xunit.Assert.Equal(guard, y[^1]);
    }

    /// <summary>
    /// A random int8 convolution case for <paramref name="shape"/>: s8 weights, u8 input, the input zero point 0 or
    /// random, per-tensor (0 or random) or per-channel weight zero points, and no bias or a random one, chosen by
    /// <paramref name="variant"/>; with the int32 accumulators of <see cref="ConvInteger"/>.
    /// </summary>
    public static (sbyte[] W, byte[] X, byte XZero, int[] WZero, int[]? Bias, int[] Expected32) RandomInt8Conv(
        Random rng, DefectDetection.Onnx.Kernels.Conv.Conv2dShape shape, int n, int h, int w, int variant)
    {
        byte[] wb = new byte[shape.OutChannels * (shape.InChannels / shape.Group) * shape.KernelH * shape.KernelW];
        rng.NextBytes(wb);
        sbyte[] weights = Array.ConvertAll(wb, v => (sbyte)v);
        byte[] x = new byte[n * shape.InChannels * h * w];
        rng.NextBytes(x);
        byte xZero = (byte)((variant % 3) == 0 ? 0 : rng.Next(256));
        int[] wZero = (variant % 2) == 0 ? [(variant % 4) == 0 ? 0 : rng.Next(-128, 128)] : Enumerable.Range(0, shape.OutChannels).Select(_ => rng.Next(-128, 128)).ToArray();
        int[]? bias = (variant % 3) == 1 ? null : Enumerable.Range(0, shape.OutChannels).Select(_ => rng.Next(-100000, 100000)).ToArray();
        return (weights, x, xZero, wZero, bias, ConvInteger(shape, x, xZero, n, h, w, weights, wZero, bias));
    }

    public static float[] RandomFloats(Random rng, int n, float range = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = (float)((rng.NextDouble() * 2) - 1) * range;
        }

        return a;
    }

    public static void AssertClose(float[] expected, double[] magnitude, float[] actual, int count, string what)
    {
        for (int i = 0; i < count; i++)
        {
            double tol = 1e-5 + (2e-5 * magnitude[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
            {
                Assert.Fail($"{what}: element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tol}).");
            }
        }
    }

    /// <summary>The vector widths to test on this machine (always including scalar).</summary>
    public static IEnumerable<int> Widths()
    {
        int max = Onnx.Kernels.Gemm.KernelOptions.DetectVectorBits();
        foreach (int w in new[] { 512, 256, 128, 0 })
        {
            if (w <= max)
            {
                yield return w;
            }
        }
    }

    public static TheoryData<int> WidthData()
    {
        var data = new TheoryData<int>();
        foreach (int w in new[] { 512, 256, 128, 0 })
        {
            data.Add(w);
        }

        return data;
    }
}
