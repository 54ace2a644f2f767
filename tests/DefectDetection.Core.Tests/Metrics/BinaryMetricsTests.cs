using DefectDetection.Metrics;

namespace DefectDetection.Core.Tests.Metrics;

public class BinaryMetricsTests
{
    /// <summary>Independent reference: the share of (positive, negative) pairs ranked correctly, ties one half.</summary>
    private static double PairwiseAuc(double[] s, bool[] p)
    {
        double good = 0;
        long pairs = 0;
        for (int i = 0; i < s.Length; i++)
        {
            for (int j = 0; j < s.Length; j++)
            {
                if (p[i] && !p[j])
                {
                    pairs++;
                    good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                }
            }
        }

        return good / pairs;
    }

    [Fact]
    public void RocAuc_HandComputed()
    {
        // scikit-learn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75.
        Assert.Equal(0.75, BinaryMetrics.RocAuc([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 12);
        Assert.Equal(1.0, BinaryMetrics.RocAuc([0.1, 0.2, 0.9], [false, false, true]), 12);
        Assert.Equal(0.0, BinaryMetrics.RocAuc([0.9, 0.2], [false, true]), 12);
    }

    [Fact]
    public void RocAuc_TiesCountOneHalf()
    {
        Assert.Equal(0.5, BinaryMetrics.RocAuc([0.5, 0.5, 0.5, 0.5], [false, true, false, true]), 12);
        // pos {0.5, 0.9}, neg {0.5, 0.1}: pairs (0.5,0.5)=0.5, (0.5,0.1)=1, (0.9,*)=2 -> 3.5/4
        Assert.Equal(0.875, BinaryMetrics.RocAuc([0.5, 0.9, 0.5, 0.1], [true, true, false, false]), 12);
    }

    [Fact]
    public void RocAuc_MatchesPairwiseReference_OnRandomDataWithTies()
    {
        Random rng = new(3);
        for (int trial = 0; trial < 30; trial++)
        {
            int n = rng.Next(2, 80);
            double[] s = [.. Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 5) / 5)];
            bool[] p = [.. Enumerable.Range(0, n).Select(i => i == 0 || (i != 1 && rng.NextDouble() < 0.4))];
            Assert.Equal(PairwiseAuc(s, p), BinaryMetrics.RocAuc(s, p), 12);
        }
    }

    [Fact]
    public void OneClass_GivesNaN_EmptyOrMismatchedThrows()
    {
        Assert.True(double.IsNaN(BinaryMetrics.RocAuc([0.1, 0.2], [true, true])));
        Assert.True(double.IsNaN(BinaryMetrics.RocAuc([0.1, 0.2], [false, false])));
        Assert.True(double.IsNaN(BinaryMetrics.AveragePrecision([0.1, 0.2], [false, false])));
        Assert.Equal(1.0, BinaryMetrics.AveragePrecision([0.1, 0.2], [true, true]), 12);
        Assert.Throws<ArgumentException>(() => BinaryMetrics.RocAuc([], []));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.AveragePrecision([0.1], [true, false]));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.RocAuc([double.NaN, 1], [true, false]));
    }

    [Fact]
    public void AveragePrecision_HandComputed_StepWise()
    {
        // scikit-learn's documented example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333.
        // Thresholds 0.8: P=1 R=0.5; 0.4: P=1/2 R=0.5; 0.35: P=2/3 R=1 -> 0.5*1 + 0.5*2/3.
        Assert.Equal(0.5 + (0.5 * 2 / 3.0), BinaryMetrics.AveragePrecision([0.1, 0.4, 0.35, 0.8], [false, false, true, true]), 12);
        // All tied: a single threshold, P = 0.5 at R = 1.
        Assert.Equal(0.5, BinaryMetrics.AveragePrecision([0.3, 0.3, 0.3, 0.3], [true, false, true, false]), 12);
        // Tie at the top between a positive and a negative: P = 1/2 at R = 1/2, then P = 2/3 at R = 1.
        Assert.Equal((0.5 * 0.5) + (0.5 * 2 / 3.0), BinaryMetrics.AveragePrecision([0.9, 0.9, 0.5], [true, false, true]), 12);
    }

    [Fact]
    public void SelectThreshold_MaxF1AndTargetRecall()
    {
        double[] s = [0.95, 0.9, 0.8, 0.7, 0.6, 0.3, 0.2];
        bool[] p = [true, true, false, true, false, true, false];
        // >=0.9: tp2 fp0 F1=2*2/(2+4)=0.667; >=0.7: tp3 fp1 F1=6/(4+4)=0.75; >=0.3: tp4 fp2 F1=8/(6+4)=0.8 (best); >=0.2: 8/11.
        Assert.Equal(0.3, BinaryMetrics.SelectThreshold(s, p));
        // Recall 0.75 first reached at 0.7.
        Assert.Equal(0.7, BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { Rule = ThresholdRule.TargetRecall, TargetRecall = 0.75 }));
        Assert.Equal(0.95, BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { Rule = ThresholdRule.TargetRecall, TargetRecall = 0.25 }));
        Assert.Throws<ArgumentException>(() => BinaryMetrics.SelectThreshold([0.1], [false]));
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { Rule = ThresholdRule.TargetRecall, TargetRecall = 0 }));

        // Each negative standing for three: F1 = 2tp / (2tp + 3fp + fn). >=0.9: 4/6 = 0.667 (best); >=0.7: 6/10;
        // >=0.3: 8/14 = 0.571; >=0.8: 4/9.
        Assert.Equal(0.9, BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { NegativeWeight = 3 }));
        Assert.Equal(0.3, BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { NegativeWeight = 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { NegativeWeight = 0 }));
    }

    [Fact]
    public void SelectThreshold_StableF1_CutsBetweenSeparableClasses()
    {
        // F1 is 1 only at >= 0.7; the cut goes midway to the next lower score, inside [median negative 0.2, median positive 0.8].
        ThresholdOptions stable = new() { Rule = ThresholdRule.StableF1 };
        Assert.Equal(0.5, BinaryMetrics.SelectThreshold([0.9, 0.8, 0.7, 0.3, 0.2, 0.1], [true, true, true, false, false, false], stable), 12);
    }

    [Fact]
    public void SelectThreshold_StableF1_IsNotPulledToAnExtremeByNoisyScores()
    {
        // Positives 0.9, 0.6, 0.05, 0.04; negatives 0.5, 0.3, 0.03, 0.02. F1 by cut: >=0.9 0.4, >=0.6 0.667, >=0.5 0.571,
        // >=0.3 0.5, >=0.05 0.667, >=0.04 0.8 (best: max F1 takes 0.04 and calls 6 of 8 images positive), >=0.03 0.727.
        double[] s = [0.9, 0.6, 0.5, 0.3, 0.05, 0.04, 0.03, 0.02];
        bool[] p = [true, true, false, false, true, true, false, false];
        Assert.Equal(0.04, BinaryMetrics.SelectThreshold(s, p));
        // Stable: the near-best cut (0.04 + 0.03) / 2 = 0.035 is raised to the negatives' median (0.3 + 0.03) / 2 = 0.165
        // (the positives' median is (0.6 + 0.05) / 2 = 0.325).
        Assert.Equal(0.165, BinaryMetrics.SelectThreshold(s, p, new ThresholdOptions { Rule = ThresholdRule.StableF1 }), 12);
    }

    [Fact]
    public void SelectThreshold_F1Tie_PrefersTheLowerThreshold()
    {
        // >=0.9: tp1 fp0 -> F1 = 2/3; >=0.5: tp2 fp2 -> F1 = 4/(4+2) = 2/3. Tie: the lower one wins.
        Assert.Equal(0.5, BinaryMetrics.SelectThreshold([0.9, 0.5, 0.5, 0.5], [true, true, false, false]));
    }
}
