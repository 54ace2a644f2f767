using DefectDetection.Imaging.Processing;

namespace DefectDetection.Imaging.Tests.Processing;

public sealed class ConnectedComponentsTests
{
    [Fact]
    public void LabelsEightConnectedRegionsWithBoundsAndAreas()
    {
        // 6x4 mask:  1 1 0 0 0 1
        //            0 0 1 0 0 1      <- (2,1) touches (1,0) diagonally: same region
        //            0 0 0 0 0 0
        //            1 0 0 1 1 0
        byte[] mask =
        [
            1, 1, 0, 0, 0, 1,
            0, 0, 1, 0, 0, 1,
            0, 0, 0, 0, 0, 0,
            1, 0, 0, 1, 1, 0,
        ];
        int[] labels = new int[mask.Length];
        List<ConnectedComponent> regions = ConnectedComponents.Label(mask, 6, 4, labels);
        Assert.Equal(
        [
            new ConnectedComponent(1, new Rectangle(0, 0, 3, 2), 3),
            new ConnectedComponent(2, new Rectangle(5, 0, 1, 2), 2),
            new ConnectedComponent(3, new Rectangle(0, 3, 1, 1), 1),
            new ConnectedComponent(4, new Rectangle(3, 3, 2, 1), 2),
        ], regions);
        Assert.Equal(1, labels[8]);
        Assert.Equal(0, labels[2]);
        Assert.Equal(4, labels[23 - 1]);
    }

    [Fact]
    public void EmptyMaskHasNoRegionsAndSizesAreChecked()
    {
        Assert.Empty(ConnectedComponents.Label(new byte[12], 4, 3, new int[12]));
        Assert.Throws<ArgumentException>(() => ConnectedComponents.Label(new byte[12], 4, 4, new int[12]));
    }
}
