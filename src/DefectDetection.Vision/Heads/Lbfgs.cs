using System.Numerics.Tensors;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Heads;

/// <summary>
/// Limited-memory BFGS: the two-loop recursion for the search direction and a backtracking line search with
/// quadratic interpolation under the Armijo condition; a correction pair is kept only when its curvature s'y is
/// positive, so the implied Hessian stays positive definite.
/// </summary>
internal static class Lbfgs
{
    public delegate double Function(ReadOnlySpan<float> x, Span<float> gradient);

    /// <summary>Called after each accepted step with (iteration, x, loss); return false to stop.</summary>
    public delegate bool Callback(int iteration, float[] x, double loss);

    public static double Minimize(Function f, float[] x, int maxIterations, double tolerance, int history, Callback callback, CancellationToken cancellationToken)
    {
        int n = x.Length;
        float[] g = new float[n], d = new float[n], xNew = new float[n], gNew = new float[n];
        float[][] s = new float[history][], y = new float[history][];
        double[] rho = new double[history], alpha = new double[history];
        for (int i = 0; i < history; i++)
        {
            s[i] = new float[n];
            y[i] = new float[n];
        }

        int stored = 0, head = 0;
        double fx = f(x, g);
        for (int iter = 1; iter <= maxIterations; iter++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (MaxAbs(g) <= tolerance)
            {
                break;
            }

            // Two-loop recursion: d = -H g.
            g.AsSpan().CopyTo(d);
            for (int k = 0; k < stored; k++)
            {
                int i = (head - 1 - k + history) % history;
                alpha[i] = rho[i] * Dot(s[i], d);
                TensorPrimitives.MultiplyAdd(y[i], (float)-alpha[i], d, d);
            }

            if (stored > 0)
            {
                int last = (head - 1 + history) % history;
                double gamma = Dot(s[last], y[last]) / Dot(y[last], y[last]);
                TensorPrimitives.Multiply(d, (float)gamma, d);
            }

            for (int k = stored - 1; k >= 0; k--)
            {
                int i = (head - 1 - k + history) % history;
                double beta = rho[i] * Dot(y[i], d);
                TensorPrimitives.MultiplyAdd(s[i], (float)(alpha[i] - beta), d, d);
            }

            TensorPrimitives.Negate(d, d);
            double gtd = Dot(g, d);
            if (!(gtd < 0))
            {
                // Not a descent direction (numerical trouble): restart from steepest descent.
                stored = 0;
                TensorPrimitives.Negate(g, d);
                gtd = Dot(g, d);
            }

            double step = stored == 0 ? Math.Min(1.0, 1.0 / Math.Sqrt(Dot(g, g))) : 1.0;
            double fNew = double.NaN;
            bool accepted = false;
            for (int trial = 0; trial < 40; trial++)
            {
                TensorPrimitives.MultiplyAdd(d, (float)step, x, xNew);
                fNew = f(xNew, gNew);
                if (double.IsFinite(fNew) && fNew <= fx + (1e-4 * step * gtd))
                {
                    accepted = true;
                    break;
                }

                // Minimiser of the quadratic through f(0), f'(0) and f(step), kept within [0.1, 0.5] x step.
                double next = double.IsFinite(fNew) ? -gtd * step * step / (2 * (fNew - fx - (gtd * step))) : 0.1 * step;
                step = Math.Clamp(double.IsFinite(next) ? next : 0.5 * step, 0.1 * step, 0.5 * step);
            }

            if (!accepted)
            {
                break;
            }

            // Store the correction pair.
            TensorPrimitives.Subtract(xNew, x, s[head]);
            TensorPrimitives.Subtract(gNew, g, y[head]);
            double sy = Dot(s[head], y[head]);
            if (sy > 1e-10 * Dot(y[head], y[head]))
            {
                rho[head] = 1.0 / sy;
                head = (head + 1) % history;
                stored = Math.Min(stored + 1, history);
            }

            double change = Math.Abs(fx - fNew);
            xNew.AsSpan().CopyTo(x);
            gNew.AsSpan().CopyTo(g);
            fx = fNew;
            if (!callback(iter, x, fx) || change <= tolerance * Math.Max(1.0, Math.Abs(fx)) * 1e-3)
            {
                break;
            }
        }

        return fx;
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        // Blocked float dot products summed in double: SIMD speed, little rounding.
        double sum = 0;
        for (int i = 0; i < a.Length; i += 4096)
        {
            int len = Math.Min(4096, a.Length - i);
            sum += TensorPrimitives.Dot(a.Slice(i, len), b.Slice(i, len));
        }

        return sum;
    }

    private static double MaxAbs(ReadOnlySpan<float> v) => v.IsEmpty ? 0 : TensorPrimitives.MaxMagnitude(v) is float m ? Math.Abs(m) : 0;
}
