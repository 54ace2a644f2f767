namespace DefectDetection.Imaging.Formats.Jpeg;

/// <summary>The IDCT stage: coefficients of one MCU row to samples in each component's ring (kernels in <see cref="JpegIdct"/>).</summary>
internal sealed unsafe partial class JpegDecoderCore
{
    /// <summary>Inverse-transforms MCU row <paramref name="row"/>, whose coefficients are at row <paramref name="storeRow"/> of the store.</summary>
    private void TransformMcuRow(int row, int storeRow)
    {
        short* natural = stackalloc short[64];
        foreach (Component c in _components)
        {
            fixed (short* coefs = c.Coefficients)
            fixed (int* quant = c.Quant)
            fixed (byte* plane = c.Plane)
            fixed (byte* eob = c.EobMarks)
            {
                if (quant == null)
                {
                    ThrowInvalid(-1, $"component {c.Id} has no quantisation table (it appears in no scan)");
                }

                int blockRows = Math.Min(c.V, c.HeightInBlocks - (row * c.V));
                for (int by = 0; by < blockRows; by++)
                {
                    int compRow = ((row * c.V) + by) * 8;
                    byte* dst = plane + ((compRow % c.RingRows) * c.PlaneStride);
                    int block = ((storeRow * c.V) + by) * c.BlocksPerLine;
                    short* src = coefs + (block * 64);
                    for (int bx = 0; bx < c.WidthInBlocks; bx++, src += 64, dst += 8)
                    {
                        if (_progressive)
                        {
                            byte* zigzag = ZigZagTable;
                            for (int k = 0; k < 64; k++)
                            {
                                natural[zigzag[k]] = src[k];
                            }

                            JpegIdct.Transform(natural, quant, dst, c.PlaneStride);
                        }
                        else if (eob != null && eob[block + bx] != 0)
                        {
                            JpegIdct.TransformDcOnly(src, quant, dst, c.PlaneStride);
                        }
                        else
                        {
                            JpegIdct.Transform(src, quant, dst, c.PlaneStride);
                        }
                    }
                }
            }
        }
    }
}
