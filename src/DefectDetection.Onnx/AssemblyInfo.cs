// DefectDetection.Onnx: a managed ONNX inference engine (model reading, graph optimisation, SIMD kernels).
[assembly: System.CLSCompliant(false)]
