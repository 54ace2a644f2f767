namespace DefectDetection.Imaging;

/// <summary>An encoded image file format.</summary>
public enum ImageFormat
{
    /// <summary>Not recognised.</summary>
    Unknown = 0,

    /// <summary>JPEG (JFIF/EXIF/Adobe), baseline or progressive.</summary>
    Jpeg,

    /// <summary>Portable Network Graphics.</summary>
    Png,

    /// <summary>Windows bitmap.</summary>
    Bmp,

    /// <summary>Netpbm portable any-map: PGM (P2, P5) and PPM (P3, P6).</summary>
    Pnm,
}
