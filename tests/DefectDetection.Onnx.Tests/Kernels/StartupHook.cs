// A .NET startup hook (DOTNET_STARTUP_HOOKS) used only by HardwareIntrinsicsOffTests: when the child process is
// asked for the kernel self-check, run it and exit before the (empty) test-host entry point.
#pragma warning disable CA1050 // the runtime looks for a type named StartupHook in the global namespace
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(DefectDetection.Onnx.Tests.Kernels.KernelSelfCheck.EnvironmentVariable) == "1")
        {
            Environment.Exit(DefectDetection.Onnx.Tests.Kernels.KernelSelfCheck.Run());
        }
    }
}
