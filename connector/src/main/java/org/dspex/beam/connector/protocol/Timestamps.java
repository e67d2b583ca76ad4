package org.dspex.beam.connector.protocol;

import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** Header timestamps: UTC, ISO-8601 with milliseconds, {@code 2026-11-26T15:09:42.123Z}. */
public final class Timestamps {
  private static final DateTimeFormatter FORMAT =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private Timestamps() {}

  /** The clock's current instant in header form. */
  public static String now(Clock clock) {
    return FORMAT.format(clock.instant());
  }
}
