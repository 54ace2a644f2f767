using System.Diagnostics;
using DefectDetection.Onnx;
var m = OnnxModel.Load(args[0]);
foreach (var n in m.NodeOutputNames) Console.WriteLine(n);
