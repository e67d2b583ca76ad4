package org.dspex.beam.connector.worker;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Replaces secret values by {@code ***} in every text the Java side produces about a worker: log
 * lines, pumped stderr lines, exception messages, tracebacks.
 */
final class Redactor {
  static final String MASK = "***";
  private static final Redactor NONE = new Redactor(List.of());

  private final List<String> secrets;

  private Redactor(List<String> secrets) {
    this.secrets = secrets;
  }

  static Redactor of(Collection<String> values) {
    List<String> list = new ArrayList<>();
    for (String v : values) {
      if (v != null && !v.isEmpty() && !list.contains(v)) {
        list.add(v);
      }
    }
    if (list.isEmpty()) {
      return NONE;
    }
    // Longest first: a secret that contains another must be masked whole.
    list.sort(Comparator.comparingInt(String::length).reversed());
    return new Redactor(List.copyOf(list));
  }

  String redact(String text) {
    if (text == null || secrets.isEmpty()) {
      return text;
    }
    String out = text;
    for (String s : secrets) {
      if (out.contains(s)) {
        out = out.replace(s, MASK);
      }
    }
    return out;
  }
}
