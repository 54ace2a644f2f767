using System.Text;
using DefectDetection.Imaging;
using DefectDetection.Imaging.Processing;
using DefectDetection.Onnx;
using DefectDetection.Testing;
using DefectDetection.Vision.Backbones;

namespace DefectDetection.Vision.Tests.Backbones;

/// <summary>Running a backbone exported with a fixed input size at another size, and per-image standardisation.</summary>
public sealed class OnnxBackboneWiderInputTests
{
    private const string Stride8 = "/features/features.6/Add_output_0_DequantizeLinear_Output";

    private static string ModelPath => SharedData.PathOf("models", "mobilenetv2-int8", "mobilenetv2-int8-qdq.onnx");

    private static string Sample(string name) => SharedData.PathOf("models", "mobilenetv2-int8", "samples", name + ".jpg");

    [SharedFact]
    public void AWiderInputGivesTheSameTrunkFeaturesAwayFromTheSeam()
    {
        using Image a = ImageResizer.Resize(ImageCodecs.Load(Sample("macaw")).View(), 224, 224);
        using Image b = ImageResizer.Resize(ImageCodecs.Load(Sample("samoyed")).View(), 224, 224);
        using Image wide = Image.Create(448, 224, a.PixelFormat);
        for (int y = 0; y < 224; y++)
        {
            a.GetRow(y).CopyTo(wide.GetRow(y));
            b.GetRow(y).CopyTo(wide.GetRow(y)[a.GetRow(y).Length..]);
        }

        using OnnxBackbone square = new(BackboneSpec.FromFile(ModelPath) with { Taps = [Stride8] }, new OnnxBackboneOptions { Threads = 1 });
        using OnnxBackbone wider = new(
            BackboneSpec.FromFile(ModelPath) with
            {
                Taps = [Stride8],
                Layout = new TensorLayoutOptions { Width = 448, Height = 224, Mean = TensorLayoutOptions.ImageNet.Mean, Std = TensorLayoutOptions.ImageNet.Std },
            },
            new OnnxBackboneOptions { Threads = 1 });
        Assert.Equal(new FeatureMapShape(Stride8, 32, 28, 56), wider.LayerShapes[0]);
        float[] left = square.Run(a.View())[0].Data;
        float[] both = wider.Run(wide.View())[0].Data;
        float scale = System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(left);
        Assert.True(scale > 0);

        // Columns 0..15 of the stride-8 map see none of the right half (receptive field well under 100 px).
        for (int c = 0; c < 32; c++)
        {
            for (int y = 0; y < 28; y++)
            {
                for (int x = 0; x < 16; x++)
                {
                    Assert.Equal(left[(((c * 28) + y) * 28) + x], both[(((c * 28) + y) * 56) + x], scale * 1e-5f);
                }
            }
        }
    }

    [Fact]
    public void FreeingTheInputRewritesOnlyItsSpatialDimensions()
    {
        byte[] original = Model(Dim(1), Dim(3), Dim(224), Dim(224));
        byte[] expected = Model(Dim(1), Dim(3), Symbol("height"), Symbol("width"));
        byte[]? rewritten = OnnxInputShapeRewriter.RelaxSpatialDimensions(original, "input");
        Assert.Equal(expected, rewritten);

        // Another input's name: nothing to rewrite.
        Assert.Null(OnnxInputShapeRewriter.RelaxSpatialDimensions(original, "other"));
    }

    [Fact]
    public void ABatchOfOneCanBeFreedWithOrWithoutTheSpatialDimensions()
    {
        byte[] original = Model(Dim(1), Dim(3), Dim(224), Dim(224));
        Assert.Equal(Model(Symbol("batch"), Dim(3), Dim(224), Dim(224)), OnnxInputShapeRewriter.RelaxDimensions(original, "input", batch: true, spatial: false));
        Assert.Equal(Model(Symbol("batch"), Dim(3), Symbol("height"), Symbol("width")), OnnxInputShapeRewriter.RelaxDimensions(original, "input", batch: true, spatial: true));
        Assert.Equal(original, OnnxInputShapeRewriter.RelaxDimensions(original, "input", batch: false, spatial: false));
    }

    [SharedFact]
    public void ABackboneExportedForOneImageRunsInBatchesWithTheSameFeatures()
    {
        // The MobileNetV2 file with its input's batch dimension fixed to 1 (as ML.NET's ResNet-18 export declares it).
        byte[] bytes = File.ReadAllBytes(ModelPath);
        OnnxModel model = OnnxModel.Load(bytes);
        Dimension batch = model.Inputs[0].Shape[0];
        Assert.Null(batch.Value);
        byte[] fixedBatch = FixFirstDimension(bytes, "input", batch.Symbol!);
        Assert.Equal(1, OnnxModel.Load(fixedBatch).Inputs[0].Shape[0].Value);

        using Image a = ImageCodecs.Load(Sample("macaw"));
        using Image b = ImageCodecs.Load(Sample("samoyed"));
        using Image c = ImageCodecs.Load(Sample("goldfish"));
        using OnnxBackbone one = new(BackboneSpec.FromBytes(fixedBatch, "fixed-batch") with { Taps = [Stride8] }, new OnnxBackboneOptions { Threads = 1, BatchSize = 3 });
        using OnnxBackbone reference = new(BackboneSpec.FromFile(ModelPath) with { Taps = [Stride8] }, new OnnxBackboneOptions { Threads = 1, BatchSize = 1 });
        OnnxTensor<float> batched = one.Run([a.View(), b.View(), c.View()])[0];
        Assert.Equal([3, 32, 28, 28], batched.Shape);
        int per = 32 * 28 * 28;
        int i = 0;
        foreach (Image img in new[] { a, b, c })
        {
            Assert.Equal(reference.Run(img.View())[0].Data, batched.Data.AsSpan(i++ * per, per).ToArray());
        }
    }

    [Fact]
    public void MalformedBytesEndInInvalidData()
    {
        byte[] model = Model(Dim(1), Dim(3), Dim(224), Dim(224));
        Assert.Throws<InvalidDataException>(() => OnnxInputShapeRewriter.RelaxSpatialDimensions(model.AsSpan(0, model.Length - 3), "input"));
        Assert.Throws<InvalidDataException>(() => OnnxInputShapeRewriter.RelaxSpatialDimensions([0x3A, 0x05, 0x01], "input"));
        Assert.Throws<InvalidDataException>(() => OnnxInputShapeRewriter.RelaxSpatialDimensions([0x0B, 0x00], "input"));
    }

    // The model bytes with the first dimension of one input, declared as the symbol `symbol`, fixed to 1: the symbol's
    // bytes (field 2 of a Dimension) are replaced by dim_value 1 (field 1) and every enclosing length is re-encoded.
    private static byte[] FixFirstDimension(byte[] model, string input, string symbol)
    {
        byte[] dimBefore = Field(1, Symbol(symbol)), dimAfter = Field(1, Dim(1));
        byte[] Shape(byte[] s) => Replace(s, dimBefore, dimAfter);
        return Rewrap(model, 7, graph => Rewrap(graph, 11, valueInfo => !Contains(valueInfo, Encoding.UTF8.GetBytes(input)) ? valueInfo
            : Rewrap(valueInfo, 2, type => Rewrap(type, 1, tensor => Rewrap(tensor, 2, Shape)))));
    }

    // Re-encodes every length-delimited field `number` of a message through `change`; other fields are copied.
    private static byte[] Rewrap(byte[] message, int number, Func<byte[], byte[]> change)
    {
        var output = new List<byte>();
        int pos = 0;
        while (pos < message.Length)
        {
            int start = pos;
            ulong key = ReadVarint(message, ref pos);
            int wire = (int)(key & 7);
            switch (wire)
            {
                case 0:
                    ReadVarint(message, ref pos);
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    int len = (int)ReadVarint(message, ref pos);
                    if ((int)(key >> 3) == number)
                    {
                        output.AddRange(Field(number, change(message[pos..(pos + len)])));
                        pos += len;
                        continue;
                    }

                    pos += len;
                    break;
                default:
                    throw new InvalidDataException($"wire type {wire}");
            }

            output.AddRange(message[start..pos]);
        }

        return [.. output];
    }

    private static ulong ReadVarint(byte[] data, ref int pos)
    {
        ulong v = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[pos++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return v;
            }
        }
    }

    private static bool Contains(byte[] data, byte[] part) => data.AsSpan().IndexOf(part) >= 0;

    private static byte[] Replace(byte[] data, byte[] before, byte[] after)
    {
        int at = data.AsSpan().IndexOf(before);
        return at < 0 ? data : [.. data[..at], .. after, .. data[(at + before.Length)..]];
    }

    // An independent protobuf encoder for the few messages involved.
    private static byte[] Field(int number, byte[] payload) => [.. Varint((ulong)((number << 3) | 2)), .. Varint((ulong)payload.Length), .. payload];

    private static byte[] Varint(ulong v)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(v & 0x7F);
            v >>= 7;
            bytes.Add(v != 0 ? (byte)(b | 0x80) : b);
        }
        while (v != 0);
        return [.. bytes];
    }

    private static byte[] Dim(long value) => [0x08, .. Varint((ulong)value)];

    private static byte[] Symbol(string name) => Field(2, Encoding.UTF8.GetBytes(name));

    private static byte[] Model(params byte[][] dims)
    {
        byte[] shape = [.. dims.SelectMany(d => Field(1, d))];
        byte[] tensor = [0x08, 0x01, .. Field(2, shape)];
        byte[] type = Field(1, tensor);
        byte[] valueInfo = [.. Field(1, Encoding.UTF8.GetBytes("input")), .. Field(2, type)];
        byte[] node = Field(1, Encoding.UTF8.GetBytes("x")); // a graph field before the input, kept as is
        byte[] graph = [.. Field(1, node), .. Field(11, valueInfo), .. Field(12, Field(1, Encoding.UTF8.GetBytes("output")))];
        return [0x08, 0x07, .. Field(7, graph), 0x42, 0x02, 0x10, 0x0F];
    }
}
