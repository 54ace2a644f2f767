using DefectDetection.Imaging.Formats.Jpeg;

namespace DefectDetection.Imaging.Tests.Formats.Jpeg;

/// <summary>The SIMD kernels of the JPEG decoder against their plain scalar references.</summary>
public sealed unsafe class JpegKernelTests
{
    [Fact]
    public void VectorIdctEqualsScalarIslow()
    {
        var rng = new Random(1);
        short[] coefs = new short[64];
        int[] quant = new int[64];
        byte[] expected = new byte[64], actual = new byte[64];
        for (int trial = 0; trial < 3000; trial++)
        {
            int density = trial % 4;
            for (int i = 0; i < 64; i++)
            {
                quant[i] = rng.Next(1, trial % 3 == 0 ? 4 : 64);
                bool zero = density switch { 0 => i > 0, 1 => rng.Next(8) != 0, 2 => rng.Next(2) == 0, _ => false };
                // Dequantised values of 8-bit data stay within about +-1100 (DCT range plus rounding); beyond about
                // 2^13 the 32-bit arithmetic (as in libjpeg-turbo's SIMD code) may overflow.
                int limit = 1400 / quant[i];
                coefs[i] = zero ? (short)0 : (short)Math.Clamp(rng.Next(-1400, 1400) / (1 + (i / 4)), -limit, limit);
            }

            fixed (short* c = coefs)
            fixed (int* q = quant)
            fixed (byte* e = expected)
            fixed (byte* a = actual)
            {
                JpegIdct.TransformScalar(c, q, e, 8);
                JpegIdct.Transform(c, q, a, 8);
                byte[] v128 = new byte[64];
                fixed (byte* pv = v128)
                {
                    JpegIdct.TransformVector128(c, q, pv, 8);
                }

                Assert.Equal(expected, v128);
                if (density == 0)
                {
                    byte[] dcOnly = new byte[64];
                    fixed (byte* d = dcOnly)
                    {
                        JpegIdct.TransformDcOnly(c, q, d, 8);
                    }

                    Assert.Equal(expected, dcOnly);
                }
            }

            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void IslowReferenceMatchesTheTextbookInverseDct()
    {
        // Independent check of the scalar reference: the exact float IDCT rounds to within 1 of islow.
        var rng = new Random(2);
        short[] coefs = new short[64];
        int[] quant = Enumerable.Repeat(1, 64).ToArray();
        byte[] actual = new byte[64];
        for (int trial = 0; trial < 200; trial++)
        {
            for (int i = 0; i < 64; i++)
            {
                coefs[i] = (short)(i < 10 || rng.Next(4) == 0 ? rng.Next(-300, 300) / (1 + (i / 8)) : 0);
            }

            fixed (short* c = coefs)
            fixed (int* q = quant)
            fixed (byte* a = actual)
            {
                JpegIdct.TransformScalar(c, q, a, 8);
            }

            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 8; x++)
                {
                    double sum = 0;
                    for (int v = 0; v < 8; v++)
                    {
                        for (int u = 0; u < 8; u++)
                        {
                            double cu = u == 0 ? Math.Sqrt(0.5) : 1, cv = v == 0 ? Math.Sqrt(0.5) : 1;
                            sum += cu * cv * coefs[(v * 8) + u] * Math.Cos(((2 * x) + 1) * u * Math.PI / 16) * Math.Cos(((2 * y) + 1) * v * Math.PI / 16);
                        }
                    }

                    int expected = Math.Clamp((int)Math.Round((sum / 4) + 128), 0, 255);
                    Assert.InRange(actual[(y * 8) + x], expected - 1, expected + 1);
                }
            }
        }
    }

    [Fact]
    public void VectorUpsamplersEqualScalar()
    {
        var rng = new Random(3);
        for (int n = 0; n <= 257; n++)
        {
            byte[] near = new byte[n + 1], far = new byte[n + 1];
            rng.NextBytes(near);
            rng.NextBytes(far);
            byte[] expected = new byte[(2 * n) + 1], actual = new byte[(2 * n) + 1];
            short[] colsum = new short[n + 16];
            fixed (byte* pn = near, pf = far, e = expected, a = actual)
            fixed (short* cs = colsum)
            {
                JpegUpsampler.H2V1FancyScalar(pn, e, n);
                JpegUpsampler.H2V1Fancy(pn, a, n);
                Assert.Equal(expected, actual);

                JpegUpsampler.H2V2FancyScalar(pn, pf, e, n);
                JpegUpsampler.H2V2Fancy(pn, pf, cs, a, n);
                Assert.Equal(expected, actual);

                foreach (int bias in new[] { 1, 2 })
                {
                    JpegUpsampler.V2FancyScalar(pn, pf, e, n, bias);
                    JpegUpsampler.V2Fancy(pn, pf, a, n, bias);
                    Assert.Equal(expected, actual);
                }
            }
        }
    }

    [Fact]
    public void FancyUpsamplingFollowsLibjpegFormulas()
    {
        // h2v1: out[2i] = (3*s[i] + s[i-1] + 1) >> 2, out[2i+1] = (3*s[i] + s[i+1] + 2) >> 2, edges replicated.
        byte[] src = [10, 50, 200];
        byte[] dst = new byte[6];
        fixed (byte* s = src, d = dst)
        {
            JpegUpsampler.H2V1Fancy(s, d, 3);
        }

        Assert.Equal(new byte[] { 10, (30 + 50 + 2) >> 2, (150 + 10 + 1) >> 2, (150 + 200 + 2) >> 2, (600 + 50 + 1) >> 2, 200 }, dst);
    }

    [Fact]
    public void VectorColourConversionEqualsScalar()
    {
        var rng = new Random(4);
        for (int n = 0; n <= 257; n++)
        {
            byte[] y = new byte[n], cb = new byte[n], cr = new byte[n];
            rng.NextBytes(y);
            rng.NextBytes(cb);
            rng.NextBytes(cr);
            byte[] expected = new byte[3 * n], actual = new byte[3 * n];
            fixed (byte* py = y, pb = cb, pr = cr, e = expected, a = actual)
            {
                JpegColor.YCbCrToRgbScalar(py, pb, pr, e, n);
                JpegColor.YCbCrToRgb(py, pb, pr, a, n);
                Assert.Equal(expected, actual);
                // Every vector width this machine has, explicitly (the dispatcher picks only the widest).
                for (int kind = 0; kind < 3; kind++)
                {
                    if ((kind == 1 && !System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated) ||
                        (kind == 2 && !System.Runtime.Intrinsics.X86.Avx512F.IsSupported))
                    {
                        continue;
                    }

                    Array.Clear(actual);
                    for (int x = 0; x + 16 <= n; x += 16)
                    {
                        switch (kind)
                        {
                            case 0:
                                JpegColor.Convert16Vector128(py + x, pb + x, pr + x, a + (3 * x));
                                break;
                            case 1:
                                JpegColor.Convert16(py + x, pb + x, pr + x, a + (3 * x));
                                break;
                            default:
                                JpegColor.Convert16Avx512(py + x, pb + x, pr + x, a + (3 * x));
                                break;
                        }
                    }

                    Assert.Equal(expected.AsSpan(0, n / 16 * 48).ToArray(), actual.AsSpan(0, n / 16 * 48).ToArray());
                }

                JpegColor.PlanarToRgb(py, pb, pr, a, n);
                for (int i = 0; i < n; i++)
                {
                    Assert.Equal((y[i], cb[i], cr[i]), (actual[3 * i], actual[(3 * i) + 1], actual[(3 * i) + 2]));
                }
            }
        }
    }

    [Fact]
    public void ColourConversionIsCloseToTheJfifEquations()
    {
        byte[] y = [0, 128, 255, 90], cb = [128, 128, 128, 240], cr = [128, 128, 128, 30];
        byte[] rgb = new byte[12];
        fixed (byte* py = y, pb = cb, pr = cr, o = rgb)
        {
            JpegColor.YCbCrToRgb(py, pb, pr, o, 4);
        }

        for (int i = 0; i < 4; i++)
        {
            double r = y[i] + (1.402 * (cr[i] - 128));
            double g = y[i] - (0.344136 * (cb[i] - 128)) - (0.714136 * (cr[i] - 128));
            double b = y[i] + (1.772 * (cb[i] - 128));
            Assert.InRange(rgb[3 * i], Math.Clamp(r, 0, 255) - 1, Math.Clamp(r, 0, 255) + 1);
            Assert.InRange(rgb[(3 * i) + 1], Math.Clamp(g, 0, 255) - 1, Math.Clamp(g, 0, 255) + 1);
            Assert.InRange(rgb[(3 * i) + 2], Math.Clamp(b, 0, 255) - 1, Math.Clamp(b, 0, 255) + 1);
        }
    }
}
