package org.dspex.beam.pipelines;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The command's main code reaches the connector only through the transforms, and its packages
 * depend on each other one way. A reference is an import or a qualified name in code (comments
 * and string literals do not count), read from {@code src/main/java}.
 */
class PackageGraphTest {
  private static final String ROOT = "org.dspex.beam.pipelines";
  private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
  private static final Pattern REFERENCE = Pattern.compile("\\b(org\\.dspex\\.beam(?:\\.[a-z]\\w*)+)\\.[A-Z*]");

  /** Package to the packages it references, from every main source file. */
  private static Map<String, Set<String>> graph() throws IOException {
    Map<String, Set<String>> g = new TreeMap<>();
    List<Path> files;
    try (Stream<Path> s = Files.walk(Path.of("src/main/java"))) {
      files = s.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toList());
    }
    assertTrue(files.size() > 10, "main sources not found under " + Path.of("src/main/java").toAbsolutePath());
    for (Path f : files) {
      String code = codeOnly(Files.readString(f));
      Matcher pm = PACKAGE.matcher(code);
      assertTrue(pm.find(), "no package in " + f);
      Set<String> refs = g.computeIfAbsent(pm.group(1), k -> new TreeSet<>());
      Matcher m = REFERENCE.matcher(code.substring(pm.end()));
      while (m.find()) {
        if (!m.group(1).equals(pm.group(1))) {
          refs.add(m.group(1));
        }
      }
    }
    return g;
  }

  /** {@code java} without its comments, and with string and character literals emptied. */
  static String codeOnly(String java) {
    StringBuilder b = new StringBuilder(java.length());
    int i = 0;
    int n = java.length();
    while (i < n) {
      char c = java.charAt(i);
      if (c == '/' && i + 1 < n && java.charAt(i + 1) == '/') {
        while (i < n && java.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '/' && i + 1 < n && java.charAt(i + 1) == '*') {
        int end = java.indexOf("*/", i + 2);
        i = end < 0 ? n : end + 2;
        b.append(' ');
      } else if (c == '"' || c == '\'') {
        boolean block = c == '"' && java.startsWith("\"\"\"", i);
        String close = block ? "\"\"\"" : String.valueOf(c);
        i += close.length();
        while (i < n && !java.startsWith(close, i)) {
          i += java.charAt(i) == '\\' ? 2 : 1;
        }
        i += close.length();
        b.append(c).append(c);
      } else {
        b.append(c);
        i++;
      }
    }
    return b.toString();
  }

  @Test
  void noMainSourceReferencesTheConnector() throws IOException {
    List<String> offenders = new ArrayList<>();
    graph().forEach((pkg, refs) -> refs.stream().filter(r -> r.startsWith("org.dspex.beam.connector"))
        .forEach(r -> offenders.add(pkg + " -> " + r)));
    assertEquals(List.of(), offenders, "the command reaches the connector only through the transforms");
  }

  @Test
  void thePackagesOfTheCommandFormNoCycle() throws IOException {
    Map<String, Set<String>> g = new TreeMap<>();
    graph().forEach((pkg, refs) -> g.put(pkg,
        refs.stream().filter(r -> r.startsWith(ROOT)).collect(Collectors.toCollection(TreeSet::new))));
    for (String start : g.keySet()) {
      List<String> cycle = cycleFrom(start, start, g, new ArrayList<>(List.of(start)), new TreeSet<>());
      assertTrue(cycle.isEmpty(), () -> "package cycle: " + String.join(" -> ", cycle));
    }
  }

  @Test
  void givenTwoPackagesThatReferenceEachOther_thenTheCheckFindsTheCycle() {
    Map<String, Set<String>> g = Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"));
    assertEquals(List.of("a", "b", "c", "a"), cycleFrom("a", "a", g, new ArrayList<>(List.of("a")), new TreeSet<>()));
    assertEquals("x = \"\"; y = ''; ", codeOnly("x = \"org.dspex.beam.connector.X\"; y = '\"'; // org.dspex.beam.connector.Y\n")
        .replace("\n", ""));
  }

  /** A path {@code start -> ... -> start} through {@code g}, or empty. */
  private static List<String> cycleFrom(String start, String at, Map<String, Set<String>> g, List<String> path,
      Set<String> seen) {
    for (String next : g.getOrDefault(at, Set.of())) {
      if (next.equals(start)) {
        List<String> cycle = new ArrayList<>(path);
        cycle.add(start);
        return cycle;
      }
      if (seen.add(next)) {
        path.add(next);
        List<String> c = cycleFrom(start, next, g, path, seen);
        if (!c.isEmpty()) {
          return c;
        }
        path.remove(path.size() - 1);
      }
    }
    return List.of();
  }
}
