using DefectDetection.Imaging.Memory;

namespace DefectDetection.Imaging.Processing;

/// <summary>
/// Turns images into normalised float tensors in NCHW layout, resizing straight into the tensor (no intermediate
/// 8-bit image): the separable resize writes float rows, which are split into planes and mapped by
/// <c>(v x Scale - Mean[c]) / Std[c]</c>. The result matches <c>torch.nn.functional.interpolate</c>
/// (bilinear, align_corners=False, antialias=False) applied to the float image, then normalised.
/// </summary>
public static class TensorConversion
{
    /// <summary>
    /// Resizes each crop to the tensor size (stretching, no aspect kept) and writes
    /// [crops.Length, Channels, Height, Width] floats to <paramref name="destination"/>.
    /// </summary>
    /// <param name="crops">The images or views, any sizes and pixel formats.</param>
    /// <param name="options">Size, channels, order and normalisation.</param>
    /// <param name="destination">At least crops.Length x <see cref="TensorLayoutOptions.ElementsPerImage"/> floats.</param>
    public static void ToNchw(ReadOnlySpan<ImageView> crops, TensorLayoutOptions options, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int per = options.ElementsPerImage;
        CheckDestination(destination, crops.Length, per);
        Span<float> a = stackalloc float[3], b = stackalloc float[3];
        options.GetAffine(a, b);
        // Crops of one width (height) share their weight tables.
        Dictionary<int, ResampleTable>? xTables = null, yTables = null;
        try
        {
            for (int n = 0; n < crops.Length; n++)
            {
                ImageView crop = crops[n];
                ResampleTable tx = GetTable(ref xTables, crop.Width, options.Width, options.ResizeMode);
                ResampleTable ty = GetTable(ref yTables, crop.Height, options.Height, options.ResizeMode);
                Write(crop, options, a, b, tx, ty, destination.Slice(n * per, per), 0, 0);
            }
        }
        finally
        {
            DisposeAll(xTables);
            DisposeAll(yTables);
        }
    }

    /// <summary>
    /// Cuts <paramref name="regions"/> of one image at full resolution and resizes each straight into the tensor
    /// (no 8-bit crops are made): [regions.Length, Channels, Height, Width] floats. Regions may extend beyond the
    /// image (a box grown by a context margin near an edge); the outside pixels come from <paramref name="border"/>.
    /// </summary>
    /// <param name="image">The image or view the regions refer to.</param>
    /// <param name="regions">Non-empty rectangles in image coordinates.</param>
    /// <param name="options">Size, channels, order and normalisation.</param>
    /// <param name="destination">At least regions.Length x <see cref="TensorLayoutOptions.ElementsPerImage"/> floats.</param>
    /// <param name="border">How pixels outside the image are made. Default: <see cref="BorderMode.Replicate"/>.</param>
    /// <param name="fill">The colour for <see cref="BorderMode.Constant"/>. Default: opaque black.</param>
    public static void ToNchw(ImageView image, ReadOnlySpan<Rectangle> regions, TensorLayoutOptions options, Span<float> destination,
        BorderMode border = BorderMode.Replicate, Color? fill = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Border.Check(border);
        int per = options.ElementsPerImage;
        CheckDestination(destination, regions.Length, per);
        foreach (Rectangle r in regions)
        {
            if (r.IsEmpty || (long)r.Width * image.Channels > Array.MaxLength)
            {
                throw new ArgumentOutOfRangeException(nameof(regions), $"Region {r} is empty or too large.");
            }
        }

        Span<float> a = stackalloc float[3], b = stackalloc float[3];
        options.GetAffine(a, b);
        Dictionary<int, ResampleTable>? xTables = null, yTables = null;
        try
        {
            for (int n = 0; n < regions.Length; n++)
            {
                Rectangle r = regions[n];
                ResampleTable tx = GetTable(ref xTables, r.Width, options.Width, options.ResizeMode);
                ResampleTable ty = GetTable(ref yTables, r.Height, options.Height, options.ResizeMode);
                Span<float> sample = destination.Slice(n * per, per);
                if (new Rectangle(0, 0, image.Width, image.Height).Contains(r))
                {
                    Write(image.Slice(r), options, a, b, tx, ty, sample, 0, 0);
                    continue;
                }

                int channels = image.Channels;
                float[] scratch = PixelBufferPool.Rent<float>(tx.OutSize * channels);
                byte[] row = PixelBufferPool.Rent<byte>(r.Width * channels);
                try
                {
                    RegionSource source = new(image, r, border, fill ?? Color.Black, row);
                    TensorSink sink = new(sample, options, a, b, scratch, channels, tx.OutSize, 0, 0);
                    Resampler.Run(ref source, ref sink, tx, ty, channels);
                }
                finally
                {
                    PixelBufferPool.Return(scratch);
                    PixelBufferPool.Return(row);
                }
            }
        }
        finally
        {
            DisposeAll(xTables);
            DisposeAll(yTables);
        }
    }

    /// <summary>Resizes one image to the tensor size and writes [1, Channels, Height, Width] floats.</summary>
    /// <param name="image">The image or view.</param>
    /// <param name="options">Size, channels, order and normalisation.</param>
    /// <param name="destination">At least <see cref="TensorLayoutOptions.ElementsPerImage"/> floats.</param>
    public static void ToNchw(ImageView image, TensorLayoutOptions options, Span<float> destination) =>
        ToNchw([image], options, destination);

    /// <summary>
    /// Letterboxes one image for a detector: scales it by min(W / w, H / h) keeping the aspect ratio, resizes it to
    /// floor(w x scale) x floor(h x scale) (sampling both axes with the factor 1 / scale, as OpenCV's
    /// <c>resize(fx, fy)</c> and YOLOX's reference preprocessing do), places it by <see cref="TensorLayoutOptions.Alignment"/> and fills the
    /// rest with <see cref="TensorLayoutOptions.PadValue"/>. Writes [1, Channels, Height, Width] floats.
    /// </summary>
    /// <param name="image">The image or view.</param>
    /// <param name="options">Size, channels, order, normalisation, pad value and alignment (see <see cref="TensorLayoutOptions.Yolox"/>).</param>
    /// <param name="destination">At least <see cref="TensorLayoutOptions.ElementsPerImage"/> floats.</param>
    /// <returns>The scale and placement, to map detections back to the image.</returns>
    public static LetterboxTransform Letterbox(ImageView image, TensorLayoutOptions options, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int per = options.ElementsPerImage;
        CheckDestination(destination, 1, per);
        Span<float> a = stackalloc float[3], b = stackalloc float[3];
        options.GetAffine(a, b);
        double scale = Math.Min((double)options.Width / image.Width, (double)options.Height / image.Height);
        int rw = Math.Clamp((int)(image.Width * scale), 1, options.Width);
        int rh = Math.Clamp((int)(image.Height * scale), 1, options.Height);
        int ox = 0, oy = 0;
        if (options.Alignment == LetterboxAlignment.Center)
        {
            ox = (options.Width - rw) / 2;
            oy = (options.Height - rh) / 2;
        }

        int plane = options.Width * options.Height;
        for (int c = 0; c < options.Channels; c++)
        {
            destination.Slice(c * plane, plane).Fill((options.PadValue * a[c]) + b[c]);
        }

        // Both axes sample with the one factor 1 / scale (as a resize given a scale factor does), not rw / w.
        using ResampleTable tx = ResampleTable.Create(image.Width, rw, options.ResizeMode, 1 / scale);
        using ResampleTable ty = ResampleTable.Create(image.Height, rh, options.ResizeMode, 1 / scale);
        Write(image, options, a, b, tx, ty, destination.Slice(0, per), ox, oy);
        return new LetterboxTransform((float)scale, ox, oy, rw, rh);
    }

    private static void Write(ImageView crop, TensorLayoutOptions options, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
        ResampleTable tx, ResampleTable ty, Span<float> sample, int offsetX, int offsetY)
    {
        int channels = crop.Channels;
        float[] scratch = PixelBufferPool.Rent<float>(tx.OutSize * channels);
        try
        {
            ViewSource source = new(crop);
            TensorSink sink = new(sample, options, a, b, scratch, channels, tx.OutSize, offsetX, offsetY);
            Resampler.Run(ref source, ref sink, tx, ty, channels);
        }
        finally
        {
            PixelBufferPool.Return(scratch);
        }
    }

    private static ResampleTable GetTable(ref Dictionary<int, ResampleTable>? cache, int inSize, int outSize, ResizeMode mode)
    {
        cache ??= [];
        if (!cache.TryGetValue(inSize, out ResampleTable? table))
        {
            table = ResampleTable.Create(inSize, outSize, mode);
            cache.Add(inSize, table);
        }

        return table;
    }

    private static void DisposeAll(Dictionary<int, ResampleTable>? cache)
    {
        if (cache is null)
        {
            return;
        }

        foreach (ResampleTable table in cache.Values)
        {
            table.Dispose();
        }
    }

    private static void CheckDestination(Span<float> destination, int count, int per)
    {
        if (destination.Length < (long)count * per)
        {
            throw new ArgumentException($"The destination holds {destination.Length} floats; {count} x {per} = {(long)count * per} are needed.", nameof(destination));
        }
    }

    /// <summary>Rows of a region that may leave the image, padded by a border rule into a row buffer.</summary>
    private readonly struct RegionSource(ImageView image, Rectangle region, BorderMode border, Color fill, byte[] row) : IResampleSource
    {
        public void HorizontalRow(int y, ResampleTable tx, Span<float> destination)
        {
            Span<byte> padded = row.AsSpan(0, region.Width * image.Channels);
            Cropping.CopyPaddedRow(image, region, y, border, fill, padded);
            Resampler.Horizontal(padded, image.Channels, tx, destination);
        }
    }

    /// <summary>Splits resized interleaved float rows into normalised planes.</summary>
    private ref struct TensorSink : IResampleSink
    {
        private readonly Span<float> _sample;
        private readonly float[] _scratch;
        private readonly int _pixels, _width, _plane, _outChannels, _channels, _offsetX, _offsetY;
        private readonly int _src0, _src1, _src2;
        private readonly float _a0, _a1, _a2, _b0, _b1, _b2;

        public TensorSink(Span<float> sample, TensorLayoutOptions options, ReadOnlySpan<float> a, ReadOnlySpan<float> b,
            float[] scratch, int channels, int pixels, int offsetX, int offsetY)
        {
            _pixels = pixels;
            _sample = sample;
            _scratch = scratch;
            _width = options.Width;
            _plane = options.Width * options.Height;
            _outChannels = options.Channels;
            _channels = channels;
            _offsetX = offsetX;
            _offsetY = offsetY;
            bool bgr = options.ChannelOrder == ChannelOrder.Bgr;
            _src0 = bgr ? 2 : 0;
            _src1 = 1;
            _src2 = bgr ? 0 : 2;
            _a0 = a[0];
            _b0 = b[0];
            _a1 = _outChannels == 3 ? a[1] : 0;
            _b1 = _outChannels == 3 ? b[1] : 0;
            _a2 = _outChannels == 3 ? a[2] : 0;
            _b2 = _outChannels == 3 ? b[2] : 0;
        }

        public readonly void WriteRow(int y, ReadOnlySpan<float> ring, ReadOnlySpan<int> offsets, ReadOnlySpan<float> weights)
        {
            int ch = _channels, pixels = _pixels;
            Span<float> row = _scratch.AsSpan(0, pixels * ch);
            VerticalKernels.ToFloats(ring, offsets, weights, row);
            int start = ((_offsetY + y) * _width) + _offsetX;
            if (_outChannels == 1)
            {
                Span<float> p = _sample.Slice(start, pixels);
                if (ch == 1)
                {
                    for (int x = 0; x < pixels; x++)
                    {
                        p[x] = (row[x] * _a0) + _b0;
                    }
                }
                else
                {
                    for (int x = 0, i = 0; x < pixels; x++, i += ch)
                    {
                        float gray = (0.299f * row[i]) + (0.587f * row[i + 1]) + (0.114f * row[i + 2]);
                        p[x] = (gray * _a0) + _b0;
                    }
                }

                return;
            }

            Span<float> p0 = _sample.Slice(start, pixels);
            Span<float> p1 = _sample.Slice(_plane + start, pixels);
            Span<float> p2 = _sample.Slice((2 * _plane) + start, pixels);
            if (ch == 1)
            {
                for (int x = 0; x < pixels; x++)
                {
                    float v = row[x];
                    p0[x] = (v * _a0) + _b0;
                    p1[x] = (v * _a1) + _b1;
                    p2[x] = (v * _a2) + _b2;
                }

                return;
            }

            for (int x = 0, i = 0; x < pixels; x++, i += ch)
            {
                p0[x] = (row[i + _src0] * _a0) + _b0;
                p1[x] = (row[i + _src1] * _a1) + _b1;
                p2[x] = (row[i + _src2] * _a2) + _b2;
            }
        }
    }
}
