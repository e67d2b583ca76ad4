package org.dspex.beam.pipelines.io;

import java.util.Locale;

/** The input file formats, chosen by extension or by {@code --input-format}. */
public enum InputFormat {
  /** One JSON object a line (UTF-8; a BOM and CRLF line ends are accepted). */
  JSONL,
  /** Comma-separated values with a header row (RFC 4180 quoting). */
  CSV,
  /** Apache Parquet, read through parquet-avro. */
  PARQUET;

  /**
   * The format named {@code explicit} (case-insensitive: {@code jsonl}, {@code json}, {@code csv},
   * {@code parquet}), or, when it is null, the one the path's extension says ({@code .jsonl},
   * {@code .json}, {@code .ndjson}, {@code .csv}, {@code .parquet}, {@code .pq}).
   *
   * @throws IllegalArgumentException when neither says, naming the option to use
   */
  public static InputFormat of(String path, String explicit) {
    if (explicit != null) {
      switch (explicit.toLowerCase(Locale.ROOT)) {
        case "jsonl":
        case "json":
        case "ndjson":
          return JSONL;
        case "csv":
          return CSV;
        case "parquet":
          return PARQUET;
        default:
          throw new IllegalArgumentException(
              "unknown input format '" + explicit + "'; use jsonl, csv or parquet");
      }
    }
    String p = path.toLowerCase(Locale.ROOT);
    if (p.endsWith(".jsonl") || p.endsWith(".json") || p.endsWith(".ndjson")) {
      return JSONL;
    }
    if (p.endsWith(".csv")) {
      return CSV;
    }
    if (p.endsWith(".parquet") || p.endsWith(".pq")) {
      return PARQUET;
    }
    throw new IllegalArgumentException("cannot tell the format of '" + path
        + "' from its extension (.jsonl, .csv, .parquet); give --input-format jsonl|csv|parquet");
  }
}
