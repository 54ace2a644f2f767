using DefectDetection.Imaging;
using DefectDetection.Projects;
using DefectDetection.Projects.Tests;

namespace DefectDetection.Dashboard.Tests;

/// <summary>A small generated project for the dashboard: 64x64 textures, anomalies with a painted square.</summary>
internal static class TestProject
{
    /// <summary>The trial's images: three good, three with a defect.</summary>
    public static readonly string[] TrialFiles = ["good-1.png", "good-2.png", "good-3.png", "bad-1.png", "bad-2.png", "bad-3.png"];

    /// <summary>
    /// Creates a project in <paramref name="folder"/> from 10 normal and 10 anomalous images (a quarter of them test
    /// images), trains v1 (weight-free classifier, the active version) and runs trial 1 over <see cref="TrialFiles"/>;
    /// with <paramref name="secondVersion"/> also trains v2 without activating it. Returns the folder.
    /// </summary>
    public static string Create(string folder, string images, bool secondVersion)
    {
        string labelled = TestImages.LabelFolders(Path.Combine(images, "dataset"), normals: 10, anomalies: 10);
        string trial = Path.Combine(images, "trial");
        TestImages.Write(trial, "good", 3, 500, 64, defect: false);
        TestImages.Write(trial, "bad", 3, 600, 64, defect: true);
        using DefectProject project = DefectProject.Create(folder, new ProjectOptions { Name = "textures" });
        project.Dataset.Import(new ImportOptions { Source = labelled, TestFraction = 0.25 });
        project.Models.Train(new ModelTrainOptions { Task = ProjectTask.Classify, TimeBudget = TimeSpan.FromSeconds(20) });
        project.Trials.Run([trial]);
        if (secondVersion)
        {
            project.Models.Retrain();
        }

        return folder;
    }

    /// <summary>A generated upload (JPEG): a texture, with a defect when asked.</summary>
    public static byte[] Upload(int seed, bool defect)
    {
        using Image image = TestImages.Texture(seed, 64, defect);
        return SyntheticImages.Jpeg(image);
    }
}
