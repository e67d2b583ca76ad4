package org.dspex.beam.bench;

/** Entry point of {@code bench/run NAME}. */
public final class BenchMain {
  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: BenchMain codecs|transport|workers|embed|predict|predict-cost|optimize-transfer|mipro|scale|cluster");
      System.exit(2);
    }
    BenchEnvironment env = BenchEnvironment.fromSystemProperties();
    switch (args[0]) {
      case "codecs":
        new CodecBench(env).run();
        break;
      case "transport":
        new TransportBench(env).run();
        break;
      case "workers":
        new WorkerBench(env).run();
        break;
      case "embed":
        new EmbedBench(env).run();
        break;
      case "predict":
        new PredictBench(env).run();
        break;
      case "predict-cost":
        new PredictCostBench(env).run();
        break;
      case "optimize-transfer":
        new OptimizeTransferBench(env).run();
        break;
      case "scale":
        new ScaleBench(env).run();
        break;
      case "cluster":
        new ClusterBench(env).run();
        break;
      case "mipro":
        new MiproBench(env).run();
        break;
      default:
        System.err.println("unknown benchmark " + args[0]);
        System.exit(2);
    }
  }
}
