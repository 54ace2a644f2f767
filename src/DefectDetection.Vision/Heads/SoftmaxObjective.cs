using System.Numerics.Tensors;
using DefectDetection.Vision.ImageClassification;
using DefectDetection.Vision.PinResidual;
using DefectDetection.Vision.TemplateDifference;

namespace DefectDetection.Vision.Heads;

/// <summary>
/// Weighted multinomial cross-entropy of a linear softmax model with an L2 penalty on the weights, and its gradient.
/// Parameters: W (classes x features, row-major) then the biases (classes).
/// Loss = sum_i w_i (logsumexp(z_i) - z_i[y_i]) / sum_i w_i + L2/2 |W|^2, z_i = W x_i + b.
/// </summary>
internal sealed class SoftmaxObjective
{
    private readonly float[] _x;
    private readonly int[] _y;
    private readonly float[] _weights;
    private readonly float _l2;

    public SoftmaxObjective(float[] x, int[] y, float[] sampleWeights, int features, int classes, float l2)
    {
        _x = x;
        _y = y;
        _weights = sampleWeights;
        Features = features;
        Classes = classes;
        _l2 = l2;
        Count = y.Length;
    }

    public int Features { get; }

    public int Classes { get; }

    public int Count { get; }

    public int ParameterCount => Classes * (Features + 1);

    /// <summary>Loss over all samples (or <paramref name="subset"/>), and the gradient into <paramref name="gradient"/>.</summary>
    public double Evaluate(ReadOnlySpan<float> theta, Span<float> gradient, ReadOnlySpan<int> subset = default)
    {
        int d = Features, c = Classes;
        ReadOnlySpan<float> w = theta[..(c * d)];
        ReadOnlySpan<float> b = theta.Slice(c * d, c);
        gradient.Clear();
        Span<float> gw = gradient[..(c * d)];
        Span<float> gb = gradient.Slice(c * d, c);
        Span<float> logits = c <= 256 ? stackalloc float[c] : new float[c];
        Span<float> probs = c <= 256 ? stackalloc float[c] : new float[c];

        int n = subset.IsEmpty ? Count : subset.Length;
        double totalWeight = 0;
        for (int k = 0; k < n; k++)
        {
            totalWeight += _weights[subset.IsEmpty ? k : subset[k]];
        }

        double loss = 0;
        for (int k = 0; k < n; k++)
        {
            int i = subset.IsEmpty ? k : subset[k];
            ReadOnlySpan<float> xi = _x.AsSpan(i * d, d);
            for (int j = 0; j < c; j++)
            {
                logits[j] = TensorPrimitives.Dot(w.Slice(j * d, d), xi) + b[j];
            }

            float max = TensorPrimitives.Max(logits);
            double sum = 0;
            for (int j = 0; j < c; j++)
            {
                sum += Math.Exp(logits[j] - max);
            }

            double lse = max + Math.Log(sum);
            double scale = _weights[i] / totalWeight;
            loss += scale * (lse - logits[_y[i]]);
            for (int j = 0; j < c; j++)
            {
                probs[j] = (float)(Math.Exp(logits[j] - lse) - (j == _y[i] ? 1 : 0));
                float g = (float)(scale * probs[j]);
                if (g != 0)
                {
                    Span<float> row = gw.Slice(j * d, d);
                    TensorPrimitives.MultiplyAdd(xi, g, row, row);
                }

                gb[j] += g;
            }
        }

        if (_l2 > 0)
        {
            loss += 0.5 * _l2 * TensorPrimitives.Dot(w, w);
            TensorPrimitives.MultiplyAdd(w, _l2, gw, gw);
        }

        return loss;
    }

    /// <summary>Weighted cross-entropy (no penalty) and accuracy of <paramref name="theta"/> on the samples.</summary>
    public (double Loss, double Accuracy) Score(ReadOnlySpan<float> theta)
    {
        int d = Features, c = Classes;
        Span<float> logits = c <= 256 ? stackalloc float[c] : new float[c];
        double loss = 0, totalWeight = 0;
        int correct = 0;
        for (int i = 0; i < Count; i++)
        {
            ComputeLogits(theta, _x.AsSpan(i * d, d), logits);
            float max = TensorPrimitives.Max(logits);
            double sum = 0;
            for (int j = 0; j < c; j++)
            {
                sum += Math.Exp(logits[j] - max);
            }

            loss += _weights[i] * (max + Math.Log(sum) - logits[_y[i]]);
            totalWeight += _weights[i];
            correct += TensorPrimitives.IndexOfMax(logits) == _y[i] ? 1 : 0;
        }

        return (loss / totalWeight, (double)correct / Count);
    }

    /// <summary>The logits of every sample (Count x Classes).</summary>
    public float[] AllLogits(ReadOnlySpan<float> theta)
    {
        float[] result = new float[Count * Classes];
        for (int i = 0; i < Count; i++)
        {
            ComputeLogits(theta, _x.AsSpan(i * Features, Features), result.AsSpan(i * Classes, Classes));
        }

        return result;
    }

    public int LabelOf(int i) => _y[i];

    public float WeightOf(int i) => _weights[i];

    public void ComputeLogits(ReadOnlySpan<float> theta, ReadOnlySpan<float> x, Span<float> logits)
    {
        int d = Features;
        for (int j = 0; j < Classes; j++)
        {
            logits[j] = TensorPrimitives.Dot(theta.Slice(j * d, d), x) + theta[(Classes * d) + j];
        }
    }
}
