namespace DefectDetection.Imaging;

/// <summary>
/// The EXIF <c>Orientation</c> tag (0x0112): how the stored pixels must be transformed to be shown upright.
/// </summary>
public enum ExifOrientation
{
    /// <summary>No orientation information; treated as <see cref="TopLeft"/>.</summary>
    Unknown = 0,

    /// <summary>1: stored upright.</summary>
    TopLeft = 1,

    /// <summary>2: mirrored horizontally.</summary>
    TopRight = 2,

    /// <summary>3: rotated 180 degrees.</summary>
    BottomRight = 3,

    /// <summary>4: mirrored vertically.</summary>
    BottomLeft = 4,

    /// <summary>5: mirrored along the main diagonal (transpose).</summary>
    LeftTop = 5,

    /// <summary>6: must be rotated 90 degrees clockwise to be upright.</summary>
    RightTop = 6,

    /// <summary>7: mirrored along the anti-diagonal (transverse).</summary>
    RightBottom = 7,

    /// <summary>8: must be rotated 90 degrees counter-clockwise to be upright.</summary>
    LeftBottom = 8,
}
