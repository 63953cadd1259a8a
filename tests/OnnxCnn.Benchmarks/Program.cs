using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(OnnxCnn.Benchmarks.InferenceBenchmarks).Assembly).Run(args);
