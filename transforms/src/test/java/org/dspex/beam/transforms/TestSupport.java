package org.dspex.beam.transforms;

import java.io.File;

/** Paths the build passes to the tests: the project venv and the test Python package's directory. */
final class TestSupport {
  static final String FAKES = "dspex_transforms_testing.fake_models";

  private TestSupport() {}

  static String python() {
    return System.getProperty("dspex.python", new File("../.venv/bin/python").getAbsolutePath());
  }

  /** The directory of {@code dspex_transforms_testing} (test programs and fake handlers), for {@code withPythonPath}. */
  static String testPythonPath() {
    return System.getProperty("dspex.test.pythonpath", new File("src/test/python").getAbsolutePath());
  }

  /**
   * The directory of the worker's test package {@code dspex_testing} (LM and program factories, the
   * loopback LM server), which the connector jar does not bundle, for {@code withPythonPath}.
   */
  static String workerTestingPath() {
    return new File(System.getProperty("dspex.testdata", "../testdata")).getAbsoluteFile().toPath()
        .resolve("../python/testing").normalize().toString();
  }

  /** Whether the test venv's Python can import {@code module} (tests of what a missing package does skip otherwise). */
  static boolean pythonHas(String module) throws java.io.IOException, InterruptedException {
    Process p = new ProcessBuilder(python(), "-c", "import importlib.util, sys;"
        + " sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 1)", module)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor() == 0;
  }

  /** A predict transform served by the fake handler. */
  static DSPexPredict fakePredict(String signature) {
    return DSPexPredict.of(signature)
        .withModel("fake/model")
        .withPython(python())
        .withPythonPath(testPythonPath())
        .withRestartBackoff(java.time.Duration.ofMillis(50))
        .withHandler("fake_predict", "fake_predict", FAKES);
  }

  /** An embed transform served by the fake handler. */
  static DSPexEmbed fakeEmbed() {
    return DSPexEmbed.of("fake-model")
        .withPython(python())
        .withPythonPath(testPythonPath())
        .withRestartBackoff(java.time.Duration.ofMillis(50))
        .withHandler("fake_embed", "fake_embed", FAKES);
  }
}
