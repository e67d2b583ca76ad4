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
 * ({@code codec} under {@code protocol} under {@code worker}; {@code transforms} on top). A new
 * import that closes a loop fails here, naming the cycle and the files behind each of its edges.
 */
class PackageCyclesTest {
  /** The modules whose {@code src/main/java} is checked, as one graph. */
  static final List<String> CHECKED_MODULES = List.of("connector", "transforms");

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
