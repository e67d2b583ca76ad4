package org.dspex.beam.connector.environment;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A separate JVM that asks for the venv of a lock file: {@code <cache> <wheels> <lock file> <bootstrap>};
 * prints {@code built=<true|false> python=<path>}. Several run at once in {@link ManagedVenvTest}.
 */
public final class VenvBuildMain {
  private VenvBuildMain() {}

  public static void main(String[] args) throws Exception {
    PythonEnvironment env = PythonEnvironment.managed().withCacheDir(args[0]).withWheelDir(args[1])
        .withBootstrapPython(args[3]);
    ManagedVenvs.Venv venv = ManagedVenvs.ensure(env, new BundledLock("test.lock", Files.readAllBytes(Path.of(args[2]))));
    System.out.println("built=" + venv.built() + " python=" + venv.python());
  }
}
