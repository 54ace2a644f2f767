// Reproduces the anomaly-detection quality figures (a research harness; the sample that teaches the API is samples/AnomalyDetection). Run from the repository root (../shared beside it):
//   dotnet run -c Release --project tools/experiments/AnomalyDetection -- cookies [--ratio 0.1] [--out DIR]
//   dotnet run -c Release --project tools/experiments/AnomalyDetection -- tiles --split train_normal --ratio 0.025 --border 2   (or --split fewshot_train_normal --ratio 0.25 --border 2)
//   dotnet run -c Release --project tools/experiments/AnomalyDetection -- variation-tiles [--split ...] [--size 224]
//   tiles ... --context 0.5 (intensity context), --dev (choose settings: held-out train_normal + even-indexed anomalies),
//   --eval-half (test_normal + odd-indexed anomalies; a plain run prints it too); probe [--class MT_Uneven] [--out DIR]
//   --resnet18 [--layer-features 64] (ML.NET ResNet-18 backbone), --nearest-images K (search only the K most similar training images' rows), --backbone FILE, --dump FILE then analyse-dump FILE, taps MODEL, class-stats
using System.Diagnostics;
using System.Globalization;
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Metrics;
using DefectDetection.Models;
using DefectDetection.Vision.Anomaly;
using DefectDetection.Vision.PatchCore;
using DefectDetection.Vision.Variation;

string shared = Arg("--shared", Path.GetFullPath("../shared"));
string backbone = args.Contains("--backbone") ? Arg("--backbone", "") : Path.Combine(shared, "models/mobilenetv2-int8/mobilenetv2-int8-qdq.onnx");
double ratio = double.Parse(Arg("--ratio", "0.1"), CultureInfo.InvariantCulture);
int threads = int.Parse(Arg("--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
string? outDir = args.Contains("--out") ? Arg("--out", "") : null;
string[] layers = args.Contains("--layers") ? Arg("--layers", "").Split(',') : []; // none: the stage taps at strides 8 and 16
int inputSize = int.Parse(Arg("--size", "224"), CultureInfo.InvariantCulture);
int neighbourhood = int.Parse(Arg("--neighbourhood", "3"), CultureInfo.InvariantCulture);
// --resnet18: ML.NET's ImageNet ResNet-18 (NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18, MIT; BGR, 0-255 minus
// the ImageNet mean), taps layer2 (128x28x28) and layer3 (256x14x14) as in PatchCore's ResNet setups.
var layout = DefectDetection.Imaging.Processing.TensorLayoutOptions.ImageNet;
if (args.Contains("--resnet18"))
{
    backbone = ResNet18Path();
    if (!File.Exists(backbone))
    {
        throw new FileNotFoundException($"--resnet18: '{backbone}' is missing; `dotnet restore tools/experiments/AnomalyDetection` downloads the package Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0 that holds it.", backbone);
    }

    layout = DefectDetection.Vision.Backbones.BackboneSpec.MlNetResNet18Layout;
}

var options = new PatchCoreOptions { Backbone = DefectDetection.Vision.Backbones.BackboneSpec.FromFile(backbone) with { Layout = layout, Taps = layers }, CoresetRatio = ratio, Threads = threads, InputSize = inputSize, Neighbourhood = neighbourhood, Tiles = int.Parse(Arg("--tiles", "1"), CultureInfo.InvariantCulture), BorderPatches = int.Parse(Arg("--border", "1"), CultureInfo.InvariantCulture),
    AugmentFlips = args.Contains("--flips"),
    MapSigma = float.Parse(Arg("--sigma", "4"), CultureInfo.InvariantCulture), ContextWeight = double.Parse(Arg("--context", "0"), CultureInfo.InvariantCulture),
    PositionWeight = double.Parse(Arg("--position", "0"), CultureInfo.InvariantCulture), MaxLayerFeatures = int.Parse(Arg("--layer-features", "0"), CultureInfo.InvariantCulture),
    NearestImages = int.Parse(Arg("--nearest-images", "0"), CultureInfo.InvariantCulture), Seed = int.Parse(Arg("--seed", "42"), CultureInfo.InvariantCulture) };

switch (args.Length > 0 ? args[0] : "")
{
    case "cookies":
        Cookies();
        break;
    case "tiles":
        Tiles();
        break;
    case "probe":
        Probe();
        break;
    case "variation-tiles":
        VariationTiles();
        break;
    case "class-stats":
        ClassStats();
        break;
    case "taps":
        Taps(args[1]);
        break;
    case "analyse-dump":
        AnalyseDump(args[1]);
        break;
    default:
        Console.WriteLine("commands: cookies | tiles --split train_normal|fewshot_train_normal [--dev|--eval-half] [--context W] [--resnet18] [--dump FILE] | probe | variation-tiles | analyse-dump FILE | taps MODEL | class-stats");
        break;
}

void Cookies()
{
    string root = Path.Combine(shared, "datasets/lfv-cookies");
    string train = Path.Combine(root, "dataset-files/training-images");
    List<Image> normals = Enumerable.Range(1, 31).Select(i => ImageCodecs.Load(Path.Combine(train, $"normal-{i}.jpg"))).ToList();
    var sw = Stopwatch.StartNew();
    using PatchCoreModel model = new PatchCoreTrainer(options).Fit(normals.Select(x => x.View()).ToList());
    double trainS = sw.Elapsed.TotalSeconds;
    Console.WriteLine($"cookies: trained on {normals.Count} normals in {trainS:F1} s; bank {model.BankSize} x {model.FeatureDimension} ({model.MemoryBankBytes / (double)normals.Count:F0} bytes/image); threshold {model.Threshold:F4}");

    var testPaths = Enumerable.Range(1, 14).Select(i => (Path.Combine(root, $"test-images/test-normal-{i}.jpg"), false))
        .Concat(Enumerable.Range(1, 8).Select(i => (Path.Combine(root, $"test-images/test-anomaly-{i}.jpg"), true))).ToList();
    List<Image> test = testPaths.Select(t => ImageCodecs.Load(t.Item1)).ToList();
    sw.Restart();
    IReadOnlyList<DefectPrediction> preds = model.Predict(test.Select(x => x.View()).ToList());
    double scoreS = sw.Elapsed.TotalSeconds;
    double[] scores = preds.Select(p => p.Score).ToArray();
    bool[] truth = testPaths.Select(t => t.Item2).ToArray();
    double auroc = BinaryMetrics.RocAuc(scores, truth);
    double f1Model = F1(scores, truth, model.Threshold);

    // The 32 training anomalies: pixel metrics against masks, and an F1-optimal threshold (labelled anomalies + held-out normals).
    var pixel = new List<AnomalyMapSample>();
    var trainAnomalyScores = new List<double>();
    for (int i = 1; i <= 32; i++)
    {
        using Image img = ImageCodecs.Load(Path.Combine(train, $"anomaly-{i}.jpg"));
        using Image maskImg = ImageCodecs.Load(Path.Combine(root, $"dataset-files/mask-images/anomaly-{i}.png"));
        DefectPrediction p = model.Predict(img.View());
        trainAnomalyScores.Add(p.Score);
        pixel.Add(new AnomalyMapSample(p.AnomalyMap!.Values, MaskOf(maskImg, p.ImageWidth, p.ImageHeight), p.ImageWidth, p.ImageHeight));
        if (outDir is not null && i <= 4)
        {
            Directory.CreateDirectory(outDir);
            using Image overlay = AnomalyVisualizer.Overlay(img.View(), p);
            ImageCodecs.Save(overlay, Path.Combine(outDir, $"anomaly-{i}.overlay.png"));
            using Image lfv = AnomalyVisualizer.LookoutMask(p, new DefectDetection.Imaging.Processing.Color(0x23, 0xA4, 0x36));
            ImageCodecs.Save(lfv, Path.Combine(outDir, $"anomaly-{i}.mask.png"));
        }
    }

    double[] calib = [.. model.CalibrationScores, .. trainAnomalyScores];
    bool[] calibTruth = [.. model.CalibrationScores.Select(_ => false), .. trainAnomalyScores.Select(_ => true)];
    double f1Threshold = BinaryMetrics.SelectThreshold(calib, calibTruth);
    double f1Labelled = F1(scores, truth, f1Threshold);
    Console.WriteLine($"cookies: image AUROC {auroc:F4}; F1 {f1Model:F4} (normals-only threshold {model.Threshold:F3}); F1 {f1Labelled:F4} (F1-optimal threshold {f1Threshold:F3} from the 32 training anomalies); scoring {test.Count / scoreS:F1} images/s");
    Console.WriteLine($"cookies: pixel AUROC {PixelMetrics.Auroc(pixel):F4}; AUPRO(0.3) {PixelMetrics.Aupro(pixel, 0.3, bins: 0):F4} on the 32 training anomalies");
    Console.WriteLine("calibration (held-out training normals): " + string.Join(' ', model.CalibrationScores.Select(s => s.ToString("F2", CultureInfo.InvariantCulture))));
    Console.WriteLine("scores: " + string.Join(' ', scores.Select((s, i) => (truth[i] ? "A" : "N") + s.ToString("F2", CultureInfo.InvariantCulture))));
}

void Tiles()
{
    string split = Arg("--split", "train_normal");
    string splits = Path.Combine(shared, "datasets/magnetic-tile/splits.json");
    ImageDataset trainSet = ImageDataset.FromSplitsFile(splits, "anomaly_detection", split);
    ImageDataset normals = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_normal");
    ImageDataset anomalies = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly", "anomaly");

    // Honest protocol: --dev chooses methods on normals held out of train_normal plus the even-indexed test anomalies;
    // --eval-half reports on test_normal plus the odd-indexed test anomalies (the half never looked at while choosing).
    string protocol = "full test split";
    if (args.Contains("--dev"))
    {
        ImageDataset all = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "train_normal");
        if (split == "train_normal")
        {
            trainSet = new ImageDataset(all.Take(all.Count - 100));
            normals = new ImageDataset(all.Skip(all.Count - 100));
        }
        else
        {
            var train = new HashSet<string>(trainSet.Select(x => x.ImagePath));
            normals = new ImageDataset(all.Where(x => !train.Contains(x.ImagePath)).TakeLast(100));
        }

        anomalies = new ImageDataset(anomalies.Where((_, i) => i % 2 == 0));
        protocol = $"DEV: {normals.Count} train_normal hold-outs + {anomalies.Count} even-indexed test anomalies";
    }
    else if (args.Contains("--eval-half"))
    {
        anomalies = new ImageDataset(anomalies.Where((_, i) => i % 2 == 1));
        protocol = $"EVAL-HALF: test_normal + {anomalies.Count} odd-indexed test anomalies";
    }

    // Diagnostic only (breaks the normals-only protocol on purpose): --learn-marked Blowhole,Crack also learns the
    // even-indexed test anomalies of those classes as normal images, defect and all, to measure how much of the pooled
    // pixel figure the unmarked surface marks of defective tiles cost; read it with --eval-half (odd-indexed anomalies).
    if (Arg("--learn-marked", "") is { Length: > 0 } marked)
    {
        string[] learn = marked.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        LabeledImage[] extra = [.. ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly", "anomaly")
            .Where((x, i) => i % 2 == 0 && learn.Any(c => x.ImagePath.Contains("MT_" + c + Path.DirectorySeparatorChar, StringComparison.OrdinalIgnoreCase)))
            .Select(x => new LabeledImage(x.ImagePath, "normal"))];
        trainSet = new ImageDataset([.. trainSet, .. extra]);
        protocol += $"; DIAGNOSTIC: also learning {extra.Length} even-indexed {string.Join("/", learn)} tiles as normal";
    }

    Console.WriteLine($"tiles/{split}: {protocol}");
    int limit = int.Parse(Arg("--test-limit", "100000"), CultureInfo.InvariantCulture);
    var sw = Stopwatch.StartNew();
    var stages = new StageClock();
    using PatchCoreModel model = new PatchCoreTrainer(options).Fit(trainSet, progress: stages);
    double trainS = sw.Elapsed.TotalSeconds;
    Console.WriteLine($"tiles/{split}: trained on {trainSet.Count} images in {trainS:F1} s ({stages.Summary()}); bank {model.BankSize} x {model.FeatureDimension} = {model.MemoryBankBytes / 1048576.0:F1} MiB ({model.MemoryBankBytes / (double)trainSet.Count:F0} bytes/image); threshold {model.Threshold:F4}");
    var scores = new List<double>();
    var truth = new List<bool>();
    var pixel = new List<AnomalyMapSample>();
    var classes = new List<string>();
    int shown = 0;
    double scoreS = 0;
    int scored = 0;
    int stride = int.Parse(Arg("--test-stride", "1"), CultureInfo.InvariantCulture);
    var oddHalf = new List<bool>();
    foreach ((LabeledImage item, bool isAnomaly, int index) in normals.Take(limit).Select((x, i) => (x, false, i)).Concat(anomalies.Take(limit).Select((x, i) => (x, true, i))).Where((_, i) => i % stride == 0))
    {
        oddHalf.Add(!isAnomaly || index % 2 == 1);
        using Image img = ImageCodecs.Load(item.ImagePath);
        sw.Restart();
        DefectPrediction p = model.Predict(img.View());
        scoreS += sw.Elapsed.TotalSeconds;
        scored++;
        scores.Add(p.Score);
        truth.Add(isAnomaly);
        byte[] mask = new byte[p.ImageWidth * p.ImageHeight];
        if (item.MaskPath is not null)
        {
            using Image m = ImageCodecs.Load(item.MaskPath);
            mask = MaskOf(m, p.ImageWidth, p.ImageHeight);
        }

        // Downsample the maps 4x for the pixel metric to bound memory (nearest: every 4th pixel).
        pixel.Add(Subsample(p.AnomalyMap!.Values, mask, p.ImageWidth, p.ImageHeight, 4));
        if (args.Contains("--diag"))
        {
            // Per image: mean map inside / outside the mask, and the map's 10th, 50th and 90th percentiles.
            double inside = p.AnomalyMap!.Values.Where((_, q) => mask[q] != 0).DefaultIfEmpty(0).Average(), outside = p.AnomalyMap!.Values.Where((_, q) => mask[q] == 0).DefaultIfEmpty(0).Average();
            float[] sorted = [.. p.AnomalyMap!.Values.Order()];
            Console.WriteLine($"DIAG {item.ImagePath} score {p.Score:F3} in {inside:F3} out {outside:F3} p10 {sorted[sorted.Length / 10]:F3} p50 {sorted[sorted.Length / 2]:F3} p90 {sorted[sorted.Length * 9 / 10]:F3}");
        }

        classes.Add(isAnomaly ? Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(item.ImagePath)))!.Replace("MT_", "", StringComparison.Ordinal) : "normal");
        if (outDir is not null && isAnomaly && item.ImagePath.Contains(Arg("--show", "MT_Uneven"), StringComparison.Ordinal) && shown++ < 8)
        {
            Directory.CreateDirectory(outDir);
            using Image overlay = AnomalyVisualizer.Overlay(img.View(), p);
            ImageCodecs.Save(overlay, Path.Combine(outDir, Path.GetFileNameWithoutExtension(item.ImagePath) + ".overlay.png"));
        }
    }

    // Pixel AUROC of each defect class against all normal maps (uneven holds most defect pixels).
    string perClass = string.Join(", ", classes.Where(c => c != "normal").Distinct().Order().Select(c =>
        c + " " + PixelMetrics.Auroc(pixel.Where((_, i) => classes[i] == c || classes[i] == "normal").ToList()).ToString("F4", CultureInfo.InvariantCulture)));
    Console.WriteLine($"tiles/{split}: pixel AUROC by class: {perClass}");
    if (protocol.StartsWith("full test split", StringComparison.Ordinal))
    {
        // The same scores restricted to test_normal + the odd-indexed anomalies: the half never used for choices.
        double[] hs = scores.Where((_, i) => oddHalf[i]).ToArray();
        bool[] ht = truth.Where((_, i) => oddHalf[i]).ToArray();
        List<AnomalyMapSample> hp = pixel.Where((_, i) => oddHalf[i]).ToList();
        List<string> hk = classes.Where((_, i) => oddHalf[i]).ToList();
        string hc = string.Join(", ", hk.Where(c => c != "normal").Distinct().Order().Select(c =>
            c + " " + PixelMetrics.Auroc(hp.Where((_, i) => hk[i] == c || hk[i] == "normal").ToList()).ToString("F4", CultureInfo.InvariantCulture)));
        Console.WriteLine($"tiles/{split}: EVAL-HALF (test_normal + odd-indexed anomalies, {hs.Length} images): image AUROC {BinaryMetrics.RocAuc(hs, ht):F4}; pixel AUROC {PixelMetrics.Auroc(hp):F4}; AUPRO(0.3) {PixelMetrics.Aupro(hp, 0.3, bins: 0):F4}; by class: {hc}");
    }

    if (args.Contains("--scores"))
    {
        // Calibration (held-out training normals) and test scores with their truth, for threshold studies.
        File.WriteAllLines(Arg("--scores", ""), [.. model.CalibrationScores.Select(s => "C " + s.ToString("R", CultureInfo.InvariantCulture)),
            .. scores.Select((s, i) => (truth[i] ? "A " : "N ") + s.ToString("R", CultureInfo.InvariantCulture))]);
    }

    if (args.Contains("--dump"))
    {
        // The 4x-subsampled maps with masks and classes, for `analyse-dump FILE` (post-processing studies without re-scoring).
        using var w = new BinaryWriter(File.Create(Arg("--dump", "")));
        w.Write(pixel.Count);
        for (int i = 0; i < pixel.Count; i++)
        {
            w.Write(classes[i]);
            w.Write(oddHalf[i]);
            w.Write(scores[i]);
            w.Write(pixel[i].Width);
            w.Write(pixel[i].Height);
            foreach (float v in pixel[i].Scores) { w.Write(v); }
            w.Write(pixel[i].Mask);
        }
    }

    Console.WriteLine($"tiles/{split}: FULL/selected split: image AUROC {BinaryMetrics.RocAuc(scores.ToArray(), truth.ToArray()):F4}; F1 at model threshold {F1(scores.ToArray(), truth.ToArray(), model.Threshold):F4}; pixel AUROC {PixelMetrics.Auroc(pixel):F4}; AUPRO(0.3) {PixelMetrics.Aupro(pixel, 0.3, bins: 0):F4}; {scored} test images, scoring {scored / scoreS:F1} images/s (with maps)");
}

// Mean grey inside / outside the mask of the even-indexed test anomalies of one class (--class MT_Uneven); with --out,
// PNG copies of the first 6 and of 8 few-shot normals, to look at.
void Probe()
{
    string splits = Path.Combine(shared, "datasets/magnetic-tile/splits.json");
    ImageDataset anomalies = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly", "anomaly");
    string cls = Arg("--class", "MT_Uneven");
    int nk = 0;
    if (outDir is not null)
    {
        Directory.CreateDirectory(outDir);
        foreach (LabeledImage item in ImageDataset.FromSplitsFile(splits, "anomaly_detection", "fewshot_train_normal").Take(8))
        {
            using Image img = ImageCodecs.Load(item.ImagePath);
            ImageCodecs.Save(img, Path.Combine(outDir, $"normal{nk++}.png"));
        }
    }

    int saved = 0;
    foreach (LabeledImage item in anomalies.Where((x, i) => i % 2 == 0 && x.ImagePath.Contains(cls, StringComparison.Ordinal)))
    {
        using Image img = ImageCodecs.Load(item.ImagePath);
        using Image m = ImageCodecs.Load(item.MaskPath!);
        byte[] mask = MaskOf(m, img.Width, img.Height);
        double si = 0, so = 0, ni = 0, no = 0;
        for (int y = 0; y < img.Height; y++)
        {
            Span<byte> row = img.GetRow(y);
            for (int x = 0; x < img.Width; x++)
            {
                double v = row[x * img.Channels];
                if (mask[(y * img.Width) + x] != 0) { si += v; ni++; } else { so += v; no++; }
            }
        }

        Console.WriteLine($"{Path.GetFileName(item.ImagePath)} {img.Width}x{img.Height} ch{img.Channels} in {si / Math.Max(1, ni):F1} out {so / Math.Max(1, no):F1} frac {ni / (ni + no):F2}");
        if (outDir is not null && saved++ < 6)
        {
            ImageCodecs.Save(img, Path.Combine(outDir, $"{saved}.img.png"));
            ImageCodecs.Save(m, Path.Combine(outDir, $"{saved}.mask.png"));
        }
    }
}

void VariationTiles()
{
    string split = Arg("--split", "train_normal");
    int size = int.Parse(Arg("--size", "224"), CultureInfo.InvariantCulture);
    string splits = Path.Combine(shared, "datasets/magnetic-tile/splits.json");
    ImageDataset trainSet = ImageDataset.FromSplitsFile(splits, "anomaly_detection", split);
    ImageDataset normals = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_normal");
    ImageDataset anomalies = ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly", "anomaly");
    var vopt = new VariationModelOptions { Width = size, Height = size };
    var sw = Stopwatch.StartNew();
    List<Image> imgs = trainSet.Select(x => ImageCodecs.Load(x.ImagePath)).ToList();
    VariationModel model = new VariationModelTrainer(vopt).Fit(imgs.Select(x => x.View()).ToList());
    imgs.ForEach(x => x.Dispose());
    Console.WriteLine($"variation/{split}: trained on {trainSet.Count} images in {sw.Elapsed.TotalSeconds:F1} s (resized to {size}x{size}; tiles are not registered, alignment by translation search)");
    var scores = new List<double>();
    var truth = new List<bool>();
    var pixel = new List<AnomalyMapSample>();
    foreach ((LabeledImage item, bool isAnomaly) in normals.Select(x => (x, false)).Concat(anomalies.Select(x => (x, true))))
    {
        using Image img = ImageCodecs.Load(item.ImagePath);
        DefectPrediction p = model.Predict(img.View());
        scores.Add(p.Score);
        truth.Add(isAnomaly);
        byte[] mask = new byte[p.ImageWidth * p.ImageHeight];
        if (item.MaskPath is not null)
        {
            using Image m = ImageCodecs.Load(item.MaskPath);
            mask = MaskOf(m, p.ImageWidth, p.ImageHeight);
        }

        pixel.Add(Subsample(p.AnomalyMap!.Values, mask, p.ImageWidth, p.ImageHeight, 4));
    }

    Console.WriteLine($"variation/{split}: image AUROC {BinaryMetrics.RocAuc(scores.ToArray(), truth.ToArray()):F4}; pixel AUROC {PixelMetrics.Auroc(pixel):F4}");
}

static AnomalyMapSample Subsample(float[] map, byte[] mask, int w, int h, int step)
{
    int sw = (w + step - 1) / step, sh = (h + step - 1) / step;
    float[] m = new float[sw * sh];
    byte[] k = new byte[sw * sh];
    for (int y = 0; y < sh; y++)
    {
        for (int x = 0; x < sw; x++)
        {
            m[(y * sw) + x] = map[(y * step * w) + (x * step)];
            k[(y * sw) + x] = mask[(y * step * w) + (x * step)];
        }
    }

    return new AnomalyMapSample(m, k, sw, sh);
}

static byte[] MaskOf(Image mask, int width, int height)
{
    using Image sized = mask.Width == width && mask.Height == height ? mask.Clone() : DefectDetection.Imaging.Processing.ImageResizer.Resize(mask.View(), width, height, DefectDetection.Imaging.Processing.ResizeMode.Bilinear);
    byte[] result = new byte[width * height];
    for (int y = 0; y < height; y++)
    {
        Span<byte> row = sized.GetRow(y);
        for (int x = 0; x < width; x++)
        {
            bool on = false;
            for (int c = 0; c < Math.Min(3, sized.Channels); c++)
            {
                on |= row[(x * sized.Channels) + c] > 127;
            }

            result[(y * width) + x] = on ? (byte)1 : (byte)0;
        }
    }

    return result;
}

static double F1(double[] scores, bool[] truth, double threshold)
{
    int tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < scores.Length; i++)
    {
        bool pred = scores[i] >= threshold;
        tp += pred && truth[i] ? 1 : 0;
        fp += pred && !truth[i] ? 1 : 0;
        fn += !pred && truth[i] ? 1 : 0;
    }

    return tp == 0 ? 0 : 2.0 * tp / ((2.0 * tp) + fp + fn);
}

string Arg(string name, string fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

// Per class: median over images of the grey mean, grey std and mean |horizontal difference| (streak contrast).
void ClassStats()
{
    string splits = Path.Combine(shared, "datasets/magnetic-tile/splits.json");
    var sets = new[] { ("train_normal", ImageDataset.FromSplitsFile(splits, "anomaly_detection", "train_normal")), ("test_normal", ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_normal")), ("test_anomaly", ImageDataset.FromSplitsFile(splits, "anomaly_detection", "test_anomaly", "anomaly")) };
    foreach ((string name, ImageDataset ds) in sets)
    {
        foreach (var g in ds.GroupBy(x => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(x.ImagePath)))))
        {
            var stats = new List<(double Mean, double Std, double Dx)>();
            foreach (LabeledImage item in g)
            {
                using Image img = ImageCodecs.Load(item.ImagePath);
                double s1 = 0, s2 = 0, dx = 0;
                long n = 0;
                for (int y = 0; y < img.Height; y++)
                {
                    Span<byte> row = img.GetRow(y);
                    for (int x = 0; x < img.Width; x++)
                    {
                        double v = row[x * img.Channels];
                        s1 += v;
                        s2 += v * v;
                        n++;
                        if (x > 0) { dx += Math.Abs(v - row[(x - 1) * img.Channels]); }
                    }
                }

                double mean = s1 / n;
                stats.Add((mean, Math.Sqrt(Math.Max(0, (s2 / n) - (mean * mean))), dx / n));
            }

            static double Med(IEnumerable<double> v) { double[] a = [.. v.Order()]; return a[a.Length / 2]; }
            Console.WriteLine($"{name} {g.Key}: {stats.Count} images, grey mean {Med(stats.Select(s => s.Mean)):F1}, std {Med(stats.Select(s => s.Std)):F1}, |dx| {Med(stats.Select(s => s.Dx)):F2}");
        }
    }
}

// The 4-D float tensors of a backbone (names and shapes at 224x224), to choose taps for --layers.
static void Taps(string model)
{
    var names = DefectDetection.Onnx.OnnxModel.Load(model).NodeOutputNames;
    foreach (string name in names)
    {
        try
        {
            using var b = new DefectDetection.Vision.Backbones.OnnxBackbone(DefectDetection.Vision.Backbones.BackboneSpec.FromFile(model) with { Taps = [name] }, new DefectDetection.Vision.Backbones.OnnxBackboneOptions { Threads = 1 });
            var sh = b.LayerShapes[0];
            Console.WriteLine($"{name}: {sh.Channels}x{sh.Height}x{sh.Width}");
        }
        catch (ArgumentException)
        {
        }
    }
}

static string ResNet18Path()
{
    string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    return Path.Combine(root, "microsoft.ml.dnnimagefeaturizer.resnet18", "0.24.0", "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
}

// Diagnostics on a `tiles --dump FILE` run: where the pooled pixel AUROC loses against the per-class figures.
static void AnalyseDump(string file)
{
    using var r = new BinaryReader(File.OpenRead(file));
    int n = r.ReadInt32();
    var items = new List<(string Cls, bool Odd, double Score, AnomalyMapSample S)>();
    for (int i = 0; i < n; i++)
    {
        string c = r.ReadString();
        bool odd = r.ReadBoolean();
        double sc = r.ReadDouble();
        int w = r.ReadInt32(), h = r.ReadInt32();
        float[] m = new float[w * h];
        for (int q = 0; q < m.Length; q++) { m[q] = r.ReadSingle(); }
        byte[] k = r.ReadBytes(w * h);
        items.Add((c, odd, sc, new AnomalyMapSample(m, k, w, h)));
    }

    foreach (var g in items.GroupBy(x => x.Cls).OrderBy(g => g.Key))
    {
        long pos = g.Sum(x => (long)x.S.Mask.Count(b => b != 0)), tot = g.Sum(x => (long)x.S.Mask.Length);
        Console.WriteLine($"{g.Key}: {g.Count()} images, {pos} defect px, {tot - pos} clean px, mean map {g.Average(x => x.S.Scores.Average()):F3}");
    }

    List<AnomalyMapSample> all = items.Select(x => x.S).ToList();
    Console.WriteLine($"pooled AUROC binned {PixelMetrics.Auroc(all):F4} exact {PixelMetrics.Auroc(all, 0):F4}");

    // Negatives from normal images only / from anomalous images only.
    static AnomalyMapSample? Only(AnomalyMapSample s, bool keepPos, bool keepNeg)
    {
        var sc = new List<float>();
        var mk = new List<byte>();
        for (int i = 0; i < s.Scores.Length; i++)
        {
            if ((s.Mask[i] != 0 && keepPos) || (s.Mask[i] == 0 && keepNeg)) { sc.Add(s.Scores[i]); mk.Add(s.Mask[i]); }
        }

        return sc.Count == 0 ? null : new AnomalyMapSample([.. sc], [.. mk], sc.Count, 1);
    }

    var negNormal = items.Select(x => x.Cls == "normal" ? x.S : Only(x.S, true, false)).OfType<AnomalyMapSample>().ToList();
    var negAnom = items.Where(x => x.Cls != "normal").Select(x => x.S).ToList();
    Console.WriteLine($"AUROC defect px vs normal-image px only {PixelMetrics.Auroc(negNormal, 0):F4}; vs anomalous-image clean px only {PixelMetrics.Auroc(negAnom, 0):F4}");
    foreach (string c in items.Select(x => x.Cls).Where(c => c != "normal").Distinct().Order())
    {
        var l = items.Select(x => x.Cls == c ? x.S : Only(x.S, false, true)).OfType<AnomalyMapSample>().ToList();
        Console.WriteLine($"  {c} defect px vs every clean px: {PixelMetrics.Auroc(l, 0):F4}");
    }

    // How much of each tile's defect-free area scores like the top 1% of the normal tiles' pixels.
    float[] normalPx = [.. items.Where(x => x.Cls == "normal").SelectMany(x => x.S.Scores).Order()];
    float p99 = normalPx[(int)(normalPx.Length * 0.99)];
    double CleanAbove(AnomalyMapSample s)
    {
        int above = 0, clean = 0;
        for (int q = 0; q < s.Scores.Length; q++)
        {
            if (s.Mask[q] == 0)
            {
                clean++;
                above += s.Scores[q] > p99 ? 1 : 0;
            }
        }

        return above / (double)Math.Max(1, clean);
    }

    foreach (bool normal in new[] { true, false })
    {
        double[] share = [.. items.Where(x => (x.Cls == "normal") == normal).Select(x => CleanAbove(x.S)).Order()];
        Console.WriteLine($"{(normal ? "normal" : "defective")} tiles: share of defect-free px above the normal tiles' pixel p99 ({p99:F3}): median {share[share.Length / 2]:P1}, p90 {share[share.Length * 9 / 10]:P1}; tiles over 5%: {share.Count(v => v > 0.05)} of {share.Length}, over 10%: {share.Count(v => v > 0.10)}");
    }

    var noUneven = items.Where(x => x.Cls != "Uneven").Select(x => x.S).ToList();
    var noUnevenNormal = items.Where(x => x.Cls != "Uneven").Select(x => x.Cls == "normal" ? x.S : Only(x.S, true, false)).OfType<AnomalyMapSample>().ToList();
    Console.WriteLine($"without the uneven images: pooled {PixelMetrics.Auroc(noUneven, 0):F4}; defect px vs normal-image px only {PixelMetrics.Auroc(noUnevenNormal, 0):F4}");

    // Halo: drop clean pixels within d (subsampled) pixels of a defect pixel.
    foreach (int d in new[] { 1, 2, 4, 8 })
    {
        var l = items.Select(x => Halo(x.S, d)).ToList();
        Console.WriteLine($"without clean px within {d} px (x4) of a defect: {PixelMetrics.Auroc(l, 0):F4}");
    }

    static AnomalyMapSample Halo(AnomalyMapSample s, int d)
    {
        var sc = new List<float>();
        var mk = new List<byte>();
        for (int y = 0; y < s.Height; y++)
        {
            for (int x = 0; x < s.Width; x++)
            {
                int i = (y * s.Width) + x;
                bool near = false;
                if (s.Mask[i] == 0)
                {
                    for (int yy = Math.Max(0, y - d); yy <= Math.Min(s.Height - 1, y + d) && !near; yy++)
                    {
                        for (int xx = Math.Max(0, x - d); xx <= Math.Min(s.Width - 1, x + d) && !near; xx++)
                        {
                            near = s.Mask[(yy * s.Width) + xx] != 0;
                        }
                    }
                }

                if (!near) { sc.Add(s.Scores[i]); mk.Add(s.Mask[i]); }
            }
        }

        return new AnomalyMapSample([.. sc], [.. mk], sc.Count, 1);
    }

    // Per-image rescalings of the map.
    static AnomalyMapSample Map(AnomalyMapSample s, Func<float[], float, float> f)
    {
        float[] sorted = [.. s.Scores.Order()];
        float med = sorted[sorted.Length / 2];
        return new AnomalyMapSample(s.Scores.Select(v => f([med, sorted[sorted.Length / 10], sorted[sorted.Length * 9 / 10]], v)).ToArray(), s.Mask, s.Width, s.Height);
    }

    // Extra smoothing of the (already smoothed, 4x subsampled) maps, and large-scale mixtures.
    static float[] Blur(AnomalyMapSample s, double sigma)
    {
        float[] blurred = new float[s.Scores.Length];
        DefectDetection.Imaging.Processing.GaussianBlur.Apply(s.Scores, s.Width, s.Height, blurred, (float)sigma);
        return blurred;
    }

    foreach (double sg in (Environment.GetEnvironmentVariable("SIGMAS") ?? "1,2,4,8").Split(",").Select(double.Parse))
    {
        var blurred = items.Select(x => new AnomalyMapSample(Blur(x.S, sg), x.S.Mask, x.S.Width, x.S.Height)).ToList();
        string mix = string.Join(", ", new[] { 0.5, 1.0 }.Select(b => $"map + {b} x blur {PixelMetrics.Auroc(items.Select((x, i) => new AnomalyMapSample(x.S.Scores.Select((v, q) => v + (float)(b * blurred[i].Scores[q])).ToArray(), x.S.Mask, x.S.Width, x.S.Height)).ToList(), 0):F4}"));
        string perCls = string.Join(", ", items.Select(x => x.Cls).Where(c => c != "normal").Distinct().Order().Select(c => c + " " + PixelMetrics.Auroc(blurred.Where((_, i) => items[i].Cls == c || items[i].Cls == "normal").ToList(), 0).ToString("F3", CultureInfo.InvariantCulture)));
        var maxed = items.Select((x, i) => new AnomalyMapSample(x.S.Scores.Select((v, q) => Math.Max(v, blurred[i].Scores[q])).ToArray(), x.S.Mask, x.S.Width, x.S.Height)).ToList();
        string maxCls = string.Join(", ", items.Select(x => x.Cls).Where(c => c != "normal").Distinct().Order().Select(c => c + " " + PixelMetrics.Auroc(maxed.Where((_, i) => items[i].Cls == c || items[i].Cls == "normal").ToList(), 0).ToString("F3", CultureInfo.InvariantCulture)));
        Console.WriteLine($"extra blur sigma {sg} (x4 px): {PixelMetrics.Auroc(blurred, 0):F4} ({perCls}); {mix}; max(map, blur) {PixelMetrics.Auroc(maxed, 0):F4} ({maxCls}); AUPRO blur {PixelMetrics.Aupro(blurred, 0.3, bins: 0):F4} max {PixelMetrics.Aupro(maxed, 0.3, bins: 0):F4} plain {PixelMetrics.Aupro(items.Select(x => x.S).ToList(), 0.3, bins: 0):F4}");
    }

    Console.WriteLine($"map - median {PixelMetrics.Auroc(items.Select(x => Map(x.S, (q, v) => v - q[0])).ToList(), 0):F4}; map / median {PixelMetrics.Auroc(items.Select(x => Map(x.S, (q, v) => v / Math.Max(1e-6f, q[0]))).ToList(), 0):F4}; map - p10 {PixelMetrics.Auroc(items.Select(x => Map(x.S, (q, v) => v - q[1])).ToList(), 0):F4}");
    foreach (double a in new[] { 0.5, 1.0, 2.0 })
    {
        Console.WriteLine($"map x score^{a}: {PixelMetrics.Auroc(items.Select(x => new AnomalyMapSample(x.S.Scores.Select(v => (float)(v * Math.Pow(x.Score, a))).ToArray(), x.S.Mask, x.S.Width, x.S.Height)).ToList(), 0):F4}");
    }
}

/// <summary>Wall time per training stage, from the trainer's progress reports (a stage runs until the next one reports).</summary>
internal sealed class StageClock : IProgress<DefectDetection.Models.TrainingProgress>
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<(string Stage, double Seconds)> _spans = [];
    private string? _stage;
    private double _since;

    public void Report(DefectDetection.Models.TrainingProgress value)
    {
        if (value.Stage != _stage)
        {
            Close();
            _stage = value.Stage;
        }
    }

    public string Summary()
    {
        Close();
        _stage = null;
        return string.Join(", ", _spans.Select(s => $"{s.Stage} {s.Seconds:F1} s"));
    }

    private void Close()
    {
        double now = _clock.Elapsed.TotalSeconds;
        if (_stage is not null)
        {
            _spans.Add((_stage, now - _since));
            _since = now;
        }
    }
}
