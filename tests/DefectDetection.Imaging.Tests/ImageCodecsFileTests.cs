namespace DefectDetection.Imaging.Tests;

public sealed class ImageCodecsFileTests
{
    [Fact]
    public void LoadAndIdentify_OfAFolder_SayItIsAFolder()
    {
        DirectoryInfo folder = Directory.CreateTempSubdirectory("ddimg-");
        try
        {
            FileNotFoundException load = Assert.Throws<FileNotFoundException>(() => ImageCodecs.Load(folder.FullName));
            Assert.Contains("is a folder", load.Message, StringComparison.Ordinal);
            Assert.Contains(folder.FullName, load.Message, StringComparison.Ordinal);
            FileNotFoundException identify = Assert.Throws<FileNotFoundException>(() => ImageCodecs.Identify(folder.FullName));
            Assert.Contains("is a folder", identify.Message, StringComparison.Ordinal);
        }
        finally
        {
            folder.Delete();
        }
    }
}
