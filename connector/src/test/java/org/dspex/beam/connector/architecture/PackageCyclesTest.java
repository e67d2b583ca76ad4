package org.dspex.beam.connector.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Java main sources have no package cycle: each package sits below the ones that use it
 * ({@code codec} under {@code protocol} under {@code worker}; {@code transforms} above the
 * connector; the command, {@code pipelines}, on top, reaching the connector only through the
 * transforms). A new import that closes a loop or skips a layer fails here, naming the packages and
 * the files behind each edge.
 */
class PackageCyclesTest {
  /** The modules whose {@code src/main/java} is checked, as one graph. */
  static final List<String> CHECKED_MODULES = List.of("connector", "transforms", "pipelines", "bench");

  static final String PREFIX = "org.dspex.";

  @Test
  void givenTheMainSourcesOfTheCheckedModules_thenNoPackageCycle() {
    PackageGraph graph = PackageGraph.scan(sourceRoots(), PREFIX);
    // The scan sees the tree: the protocol layer uses the codecs (one edge that must exist).
    assertTrue(
        graph.dependencies(PREFIX + "beam.connector.protocol").contains(PREFIX + "beam.connector.codec"),
        "the scan found no import of the codecs by the protocol: " + graph.dependencies(PREFIX + "beam.connector.protocol"));
    assertEquals("", graph.describeCycles(), "package cycles in " + CHECKED_MODULES + ":\n" + graph.describeCycles());
  }

  @Test
  void givenTheCodecPackage_thenItDependsOnNoOtherPackageOfOurs() {
    PackageGraph graph = PackageGraph.scan(sourceRoots(), PREFIX);
    assertEquals(List.of(), List.copyOf(graph.dependencies(PREFIX + "beam.connector.codec")), "the codecs are the bottom layer");
  }

  @Test
  void givenTheCommand_thenItReachesTheConnectorOnlyThroughTheTransforms() {
    PackageGraph graph = PackageGraph.scan(sourceRoots(), PREFIX);
    List<String> skips = new ArrayList<>();
    for (String from : graph.packages()) {
      if (!from.startsWith(PREFIX + "beam.pipelines")) {
        continue;
      }
      for (String to : graph.dependencies(from)) {
        if (to.startsWith(PREFIX + "beam.connector")) {
          skips.add(graph.evidence(from, to));
        }
      }
    }
    assertTrue(graph.packages().contains(PREFIX + "beam.pipelines.cli"), "the scan saw the command");
    assertEquals(List.of(), skips, "the command must reach the connector through the transforms' settings");
  }

  private static List<Path> sourceRoots() {
    Path root = repositoryRoot();
    List<Path> roots = new ArrayList<>();
    for (String module : CHECKED_MODULES) {
      Path main = root.resolve(module).resolve("src/main/java");
      assertTrue(Files.isDirectory(main), "no sources at " + main);
      roots.add(main);
    }
    return roots;
  }

  /** The parent of {@code dspex.testdata} (set by the build to {@code <root>/testdata}), else of this module. */
  private static Path repositoryRoot() {
    String testdata = System.getProperty("dspex.testdata");
    Path root = testdata != null ? Path.of(testdata).getParent() : Path.of("").toAbsolutePath().getParent();
    return root.toAbsolutePath().normalize();
  }
}
