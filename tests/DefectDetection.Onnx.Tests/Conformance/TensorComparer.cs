using System.Globalization;
using System.Text;

namespace DefectDetection.Onnx.Tests.Conformance;

/// <summary>
/// Compares an output tensor with ONNX Runtime's: floats within |got - want| &lt;= abs + rel*|want| (NaN matches NaN,
/// infinities must match exactly), 8-bit integers (quantized values) within a number of steps, every other type exactly.
/// </summary>
internal static class TensorComparer
{
    /// <summary>Returns null when the tensors match, else a message naming the first mismatches and the worst error.</summary>
    public static string? Compare(OnnxTensor want, OnnxTensor got, double abs, double rel, int steps)
    {
        if (got.ElementType != want.ElementType)
        {
            return $"element type {got.ElementType}, expected {want.ElementType}";
        }

        if (!got.Dimensions.SequenceEqual(want.Dimensions))
        {
            return $"shape [{string.Join(",", got.Shape)}], expected [{string.Join(",", want.Shape)}]";
        }

        return want.ElementType switch
        {
            TensorElementType.Float32 => Floats(want.As<float>().Span.ToArray().Select(v => (double)v), got.As<float>().Span.ToArray().Select(v => (double)v), abs, rel),
            TensorElementType.Double => Floats(want.As<double>().Span.ToArray(), got.As<double>().Span.ToArray(), abs, rel),
            TensorElementType.Float16 => Floats(want.As<Half>().Span.ToArray().Select(v => (double)v), got.As<Half>().Span.ToArray().Select(v => (double)v), Math.Max(abs, 1e-3), Math.Max(rel, 1e-3)),
            TensorElementType.UInt8 => Integers(want.As<byte>().Span.ToArray().Select(v => (long)v), got.As<byte>().Span.ToArray().Select(v => (long)v), steps),
            TensorElementType.Int8 => Integers(want.As<sbyte>().Span.ToArray().Select(v => (long)v), got.As<sbyte>().Span.ToArray().Select(v => (long)v), steps),
            TensorElementType.Int16 => Integers(want.As<short>().Span.ToArray().Select(v => (long)v), got.As<short>().Span.ToArray().Select(v => (long)v), 0),
            TensorElementType.UInt16 => Integers(want.As<ushort>().Span.ToArray().Select(v => (long)v), got.As<ushort>().Span.ToArray().Select(v => (long)v), 0),
            TensorElementType.Int32 => Integers(want.As<int>().Span.ToArray().Select(v => (long)v), got.As<int>().Span.ToArray().Select(v => (long)v), 0),
            TensorElementType.UInt32 => Integers(want.As<uint>().Span.ToArray().Select(v => (long)v), got.As<uint>().Span.ToArray().Select(v => (long)v), 0),
            TensorElementType.Int64 => Integers(want.As<long>().Span.ToArray(), got.As<long>().Span.ToArray(), 0),
            TensorElementType.UInt64 => Integers(want.As<ulong>().Span.ToArray().Select(v => unchecked((long)v)), got.As<ulong>().Span.ToArray().Select(v => unchecked((long)v)), 0),
            TensorElementType.Bool => Integers(want.As<bool>().Span.ToArray().Select(v => v ? 1L : 0L), got.As<bool>().Span.ToArray().Select(v => v ? 1L : 0L), 0),
            _ => $"cannot compare {want.ElementType}",
        };
    }

    private static string? Floats(IEnumerable<double> want, IEnumerable<double> got, double abs, double rel)
    {
        var report = new StringBuilder();
        int bad = 0, index = 0;
        double worst = 0;
        foreach ((double w, double g) in want.Zip(got))
        {
            bool ok = double.IsNaN(w) ? double.IsNaN(g)
                : double.IsInfinity(w) ? w == g
                : Math.Abs(g - w) <= abs + (rel * Math.Abs(w));
            if (!ok)
            {
                worst = double.IsFinite(g - w) ? Math.Max(worst, Math.Abs(g - w)) : double.PositiveInfinity;
                if (bad++ < 5)
                {
                    report.Append(CultureInfo.InvariantCulture, $" [{index}] got {g:R} want {w:R};");
                }
            }

            index++;
        }

        return bad == 0 ? null : string.Create(CultureInfo.InvariantCulture, $"{bad} of {index} values off (worst |diff| {worst:G4}, tolerance {abs} + {rel}*|want|):{report}");
    }

    private static string? Integers(IEnumerable<long> want, IEnumerable<long> got, int steps)
    {
        var report = new StringBuilder();
        int bad = 0, index = 0;
        long worst = 0;
        foreach ((long w, long g) in want.Zip(got))
        {
            long diff = Math.Abs(g - w);
            if (diff > steps)
            {
                worst = Math.Max(worst, diff);
                if (bad++ < 5)
                {
                    report.Append(CultureInfo.InvariantCulture, $" [{index}] got {g} want {w};");
                }
            }

            index++;
        }

        return bad == 0 ? null : $"{bad} of {index} values off (worst {worst}, tolerance {steps} steps):{report}";
    }
}
