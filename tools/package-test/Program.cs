// The program a new user writes after `dotnet add package DefectDetection.Vision` (tools/package-test/run.sh builds it
// against the packed packages): good images in, a model file out, any model file back in, a prediction as JSON.
using DefectDetection.Datasets;
using DefectDetection.Imaging;
using DefectDetection.Models;
using DefectDetection.Vision;
using DefectDetection.Vision.Variation;

Directory.CreateDirectory("data/train/normal");
for (int i = 0; i < 6; i++)
{
    using Image good = Part(i, defect: false);
    ImageCodecs.Save(good, $"data/train/normal/{i}.png");
}

using (Image bad = Part(99, defect: true))
{
    ImageCodecs.Save(bad, "bad.png");
}

IDefectTrainer trainer = new VariationModelTrainer();
using (IDefectModel trained = trainer.Fit(ImageDataset.FromFolder("data/train")))
{
    trained.Save("parts.ddmodel", new DefectModelSaveOptions { Overwrite = true });
}

using IDefectModel model = DefectModel.Load("parts.ddmodel");
using Image image = ImageCodecs.Load("bad.png");
DefectPrediction p = model.Predict(image.View());
Console.WriteLine(PredictionReport.ToJson([PredictionReport.From(p, "bad.png")]));
return p.IsDefect && p.Defects.Count > 0 ? 0 : 1;

// A gray part: a gradient with a little noise; a defect is a bright square.
static Image Part(int seed, bool defect)
{
    Random rng = new(seed);
    Image image = Image.Create(80, 60, PixelFormat.Gray8);
    for (int y = 0; y < image.Height; y++)
    {
        Span<byte> row = image.GetRow(y);
        for (int x = 0; x < row.Length; x++)
        {
            bool square = defect && x is >= 30 and < 38 && y is >= 20 and < 28;
            row[x] = square ? (byte)255 : (byte)Math.Clamp(40 + x + (2 * y) + rng.Next(-3, 4), 0, 255);
        }
    }

    return image;
}
