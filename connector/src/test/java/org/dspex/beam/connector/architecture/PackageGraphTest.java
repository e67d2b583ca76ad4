package org.dspex.beam.connector.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PackageGraphTest {
  private static PackageGraph graph(String... edges) {
    PackageGraph g = new PackageGraph("x.");
    for (String e : edges) {
      String[] ends = e.split("->");
      g.addEdge("x." + ends[0].trim(), "x." + ends[1].trim(), "made up");
    }
    return g;
  }

  @Test
  void givenALayeredGraph_thenNoCycle() {
    PackageGraph g = graph("protocol -> codec", "worker -> protocol", "worker -> codec", "transforms -> worker");
    assertEquals(List.of(), g.cycles());
    assertEquals("", g.describeCycles());
  }

  @Test
  void givenAMadeUpCycle_thenItIsNamedShortestFirstPackageFirst() {
    PackageGraph g = graph("codec -> protocol", "protocol -> worker", "worker -> codec", "protocol -> codec", "cli -> codec");
    assertEquals(List.of(List.of("x.codec", "x.protocol", "x.codec")), g.cycles());
    String described = g.describeCycles();
    assertTrue(described.startsWith("codec -> protocol -> codec\n"), described);
    assertTrue(described.contains("  protocol -> codec: made up"), described);
  }

  @Test
  void givenTwoSeparateCycles_thenBothReported() {
    PackageGraph g = graph("a -> b", "b -> c", "c -> a", "p -> q", "q -> p", "a -> p");
    assertEquals(List.of(List.of("x.a", "x.b", "x.c", "x.a"), List.of("x.p", "x.q", "x.p")), g.cycles());
  }

  @Test
  void givenSources_thenImportsStaticWildcardNestedAndQualifiedNamesInCodeCountButNotCommentsOrStrings() {
    PackageGraph g = new PackageGraph("org.dspex.");
    g.addSource(
        "A.java",
        String.join(
            "\n",
            "package org.dspex.a;",
            "",
            "import java.util.List;",
            "import org.dspex.b.Bee;",
            "import static org.dspex.c.Sea.helper;",
            "import org.dspex.d.*;",
            "import org.dspex.e.Outer.Inner;",
            "",
            "/** See {@link org.dspex.x.InComment}. */",
            "class A {",
            "  // org.dspex.y.InLineComment",
            "  String s = \"org.dspex.z.InString\";",
            "  Object o = new org.dspex.f.Qualified();",
            "  org.dspex.a.Self self;",
            "}"));
    assertEquals(
        Set.of("org.dspex.b", "org.dspex.c", "org.dspex.d", "org.dspex.e", "org.dspex.f"), g.dependencies("org.dspex.a"));
  }

  @Test
  void givenSourcesThatImportEachOther_thenTheCycleNamesTheFilesBehindIt() {
    PackageGraph g = new PackageGraph("org.dspex.");
    g.addSource("codec/Codec.java", "package org.dspex.codec;\nimport org.dspex.protocol.Protocol;\ninterface Codec {}\n");
    g.addSource("protocol/Reader.java", "package org.dspex.protocol;\nimport org.dspex.codec.Codec;\nclass Reader {}\n");
    assertEquals(
        "codec -> protocol -> codec\n"
            + "  codec -> protocol: codec/Codec.java uses org.dspex.protocol.Protocol\n"
            + "  protocol -> codec: protocol/Reader.java uses org.dspex.codec.Codec\n",
        g.describeCycles());
  }
}
