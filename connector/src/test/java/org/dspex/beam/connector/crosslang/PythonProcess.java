package org.dspex.beam.connector.crosslang;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Starts a module of the project's Python packages (the worker's and the tests') with the test venv, stderr passed through. */
final class PythonProcess {
  private PythonProcess() {}

  static Process start(String module) throws IOException {
    String python = System.getProperty("dspex.python", "../.venv/bin/python");
    Path testdata = Path.of(System.getProperty("dspex.testdata", "../testdata"));
    Path pythonPath = testdata.resolve("../python").toAbsolutePath().normalize();
    ProcessBuilder pb = new ProcessBuilder(python, "-m", module);
    pb.environment().put("PYTHONPATH", pythonPath + File.pathSeparator + pythonPath.resolve("testing"));
    pb.environment().put("PYTHONUNBUFFERED", "1");
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    return pb.start();
  }

  static void stop(Process p) throws IOException, InterruptedException {
    if (p == null) {
      return;
    }
    p.getOutputStream().close();
    if (!p.waitFor(10, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
  }

  static String name(Process p) {
    return "echo worker (pid " + p.pid() + ")";
  }
}
