package org.dspex.beam.connector.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The dependency graph between the packages of some Java sources, and its cycles: the check that
 * keeps each layer below the ones that use it ({@code codec} under {@code protocol} under {@code
 * worker}). A package depends on another when one of its files imports a type of it ({@code import},
 * {@code import static}, a wildcard) or names one fully qualified in code; comments and string
 * literals do not count.
 *
 * <p>Only packages under one prefix are kept (say {@code org.dspex.}), named without it in messages,
 * each edge with the first file and reference that made it, so that a failure says where to look:
 *
 * <pre>
 * beam.connector.codec -> beam.connector.protocol -> beam.connector.codec
 *   beam.connector.codec -> beam.connector.protocol: .../codec/Codec.java uses org.dspex.beam.connector.protocol.Protocol
 *   beam.connector.protocol -> beam.connector.codec: .../protocol/Body.java uses org.dspex.beam.connector.codec.Codecs
 * </pre>
 */
final class PackageGraph {
  private static final Pattern PACKAGE = Pattern.compile("(?m)^\\s*package\\s+([\\w.]+)\\s*;");
  private static final Pattern IMPORT = Pattern.compile("(?m)^\\s*import\\s+(?:static\\s+)?([\\w.]+)(\\.\\*)?\\s*;");
  private static final Pattern COMMENT_OR_STRING =
      Pattern.compile("/\\*.*?\\*/|//[^\\n]*|\"\"\".*?\"\"\"|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])*'", Pattern.DOTALL);

  private final String prefix;
  private final Pattern qualifiedName;
  private final Map<String, Map<String, String>> edges = new TreeMap<>();

  /** An empty graph of the packages whose names start with {@code prefix} (e.g. {@code "org.dspex."}). */
  PackageGraph(String prefix) {
    this.prefix = prefix;
    this.qualifiedName = Pattern.compile("\\b" + Pattern.quote(prefix) + "[\\w.]+");
  }

  /** The graph of every {@code .java} file below {@code sourceRoots}. */
  static PackageGraph scan(Collection<Path> sourceRoots, String prefix) {
    PackageGraph graph = new PackageGraph(prefix);
    for (Path root : sourceRoots) {
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java")).sorted()::iterator) {
          graph.addSource(root.relativize(file).toString(), Files.readString(file, StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the sources below " + root, e);
      }
    }
    return graph;
  }

  /** Adds the dependencies of one source file, {@code where} naming it in messages. */
  void addSource(String where, String source) {
    Matcher pkg = PACKAGE.matcher(source);
    if (!pkg.find() || !pkg.group(1).startsWith(prefix)) {
      return;
    }
    String from = pkg.group(1);
    Matcher imp = IMPORT.matcher(source);
    while (imp.find()) {
      String name = imp.group(1);
      addReference(from, imp.group(2) != null && isPackageName(name) ? name : packageOf(name), where, name);
    }
    String code = COMMENT_OR_STRING.matcher(IMPORT.matcher(source).replaceAll("")).replaceAll(" ");
    Matcher qualified = qualifiedName.matcher(code);
    while (qualified.find()) {
      String name = qualified.group();
      String to = packageOf(name);
      if (!to.equals(name)) {
        addReference(from, to, where, name);
      }
    }
  }

  /** Adds the edge {@code from -> to} with the reference that made it (kept once per edge). */
  void addEdge(String from, String to, String evidence) {
    if (!from.equals(to)) {
      edges.computeIfAbsent(from, k -> new TreeMap<>()).putIfAbsent(to, evidence);
    }
  }

  private void addReference(String from, String to, String where, String name) {
    if (to.startsWith(prefix)) {
      addEdge(from, to, where + " uses " + name);
    }
  }

  /** Every package that depends on another, sorted. */
  Set<String> packages() {
    return new TreeSet<>(edges.keySet());
  }

  /** The first reference that made the edge {@code from -> to} ({@code File.java uses a.b.C}), or null. */
  String evidence(String from, String to) {
    return edges.getOrDefault(from, Map.of()).get(to);
  }

  /** The packages {@code from} depends on, sorted. */
  Set<String> dependencies(String from) {
    return new TreeSet<>(edges.getOrDefault(from, Map.of()).keySet());
  }

  /**
   * One cycle per group of packages that depend on each other (a strongly connected component),
   * each the shortest from the group's first package back to itself, e.g. {@code [a, b, a]}; sorted
   * by that first package.
   */
  List<List<String>> cycles() {
    List<List<String>> cycles = new ArrayList<>();
    for (Set<String> group : stronglyConnected()) {
      if (group.size() > 1) {
        cycles.add(shortestCycle(group.iterator().next(), group));
      }
    }
    cycles.sort((x, y) -> x.get(0).compareTo(y.get(0)));
    return cycles;
  }

  /** Every cycle as {@code a -> b -> a}, each with the references behind its edges; empty if none. */
  String describeCycles() {
    StringBuilder sb = new StringBuilder();
    for (List<String> cycle : cycles()) {
      List<String> names = new ArrayList<>();
      for (String p : cycle) {
        names.add(shortName(p));
      }
      sb.append(String.join(" -> ", names)).append('\n');
      for (int i = 0; i + 1 < cycle.size(); i++) {
        sb.append("  ").append(names.get(i)).append(" -> ").append(names.get(i + 1)).append(": ")
            .append(edges.get(cycle.get(i)).get(cycle.get(i + 1))).append('\n');
      }
    }
    return sb.toString();
  }

  private String shortName(String pkg) {
    return pkg.startsWith(prefix) ? pkg.substring(prefix.length()) : pkg;
  }

  /** Tarjan's algorithm, iterative so that a deep graph cannot overflow the stack. */
  private List<Set<String>> stronglyConnected() {
    Set<String> nodes = new TreeSet<>(edges.keySet());
    edges.values().forEach(m -> nodes.addAll(m.keySet()));
    Map<String, Integer> index = new HashMap<>();
    Map<String, Integer> low = new HashMap<>();
    Deque<String> stack = new ArrayDeque<>();
    Set<String> onStack = new TreeSet<>();
    List<Set<String>> groups = new ArrayList<>();
    for (String start : nodes) {
      if (index.containsKey(start)) {
        continue;
      }
      Deque<Map.Entry<String, Iterator<String>>> work = new ArrayDeque<>();
      visit(start, index, low, stack, onStack, work);
      while (!work.isEmpty()) {
        Map.Entry<String, Iterator<String>> top = work.peek();
        String v = top.getKey();
        if (top.getValue().hasNext()) {
          String w = top.getValue().next();
          if (!index.containsKey(w)) {
            visit(w, index, low, stack, onStack, work);
          } else if (onStack.contains(w)) {
            low.put(v, Math.min(low.get(v), index.get(w)));
          }
          continue;
        }
        work.pop();
        if (!work.isEmpty()) {
          String parent = work.peek().getKey();
          low.put(parent, Math.min(low.get(parent), low.get(v)));
        }
        if (low.get(v).equals(index.get(v))) {
          Set<String> group = new TreeSet<>();
          String w;
          do {
            w = stack.pop();
            onStack.remove(w);
            group.add(w);
          } while (!w.equals(v));
          groups.add(group);
        }
      }
    }
    return groups;
  }

  private void visit(
      String v,
      Map<String, Integer> index,
      Map<String, Integer> low,
      Deque<String> stack,
      Set<String> onStack,
      Deque<Map.Entry<String, Iterator<String>>> work) {
    index.put(v, index.size());
    low.put(v, index.get(v));
    stack.push(v);
    onStack.add(v);
    work.push(Map.entry(v, dependencies(v).iterator()));
  }

  /** Breadth first from {@code start} back to it, staying inside {@code group}. */
  private List<String> shortestCycle(String start, Set<String> group) {
    Map<String, String> previous = new LinkedHashMap<>();
    Deque<String> queue = new ArrayDeque<>(List.of(start));
    while (!queue.isEmpty()) {
      String v = queue.poll();
      for (String w : dependencies(v)) {
        if (w.equals(start)) {
          List<String> path = new ArrayList<>(List.of(start));
          for (String p = v; !p.equals(start); p = previous.get(p)) {
            path.add(1, p);
          }
          path.add(start);
          return path;
        }
        if (group.contains(w) && !previous.containsKey(w)) {
          previous.put(w, v);
          queue.add(w);
        }
      }
    }
    throw new IllegalStateException("no cycle through " + start + " in " + group);
  }

  /** Whether a dotted name is a package: every segment lower case (types start upper case). */
  private static boolean isPackageName(String name) {
    for (String segment : name.split("\\.")) {
      if (!segment.isEmpty() && Character.isUpperCase(segment.charAt(0))) {
        return false;
      }
    }
    return true;
  }

  /** The package of a type or member name: its segments before the first upper-case one. */
  private static String packageOf(String name) {
    String[] segments = name.split("\\.");
    List<String> pkg = new ArrayList<>();
    for (String s : segments) {
      if (!s.isEmpty() && Character.isUpperCase(s.charAt(0))) {
        break;
      }
      pkg.add(s);
    }
    return String.join(".", pkg);
  }
}
