package org.dspex.beam.pipelines.progress;

import java.util.Locale;

/**
 * How progress reads: a one-line bar for a terminal ({@code [#####.....]  2,345/5,852  40%  512/s
 * ETA 0:07  3 failed}) and a plain line otherwise ({@code dspex: 2,345/5,852 records (40%), 512/s,
 * ETA 0:07, 3 failed}). Without a known total, no bar, percentage or ETA. While the runner has
 * reported no counts ({@code dspex: running for 1:05, no record counts from the runner yet}), the
 * time running only.
 */
public final class ProgressFormat {
  /** Width of the bar, in characters between the brackets. */
  public static final int BAR = 30;

  private ProgressFormat() {}

  /** The terminal line (no line end; the caller returns the carriage). */
  public static String bar(Snapshot s, long total, double seconds) {
    StringBuilder b = new StringBuilder();
    if (total > 0) {
      int filled = (int) Math.min(BAR, BAR * s.done() / total);
      b.append('[').append("#".repeat(filled)).append(".".repeat(BAR - filled)).append("]  ");
    }
    b.append(counts(s, total)).append("  ").append(rate(s.done(), seconds));
    String eta = eta(s.done(), total, seconds);
    if (eta != null) {
      b.append("  ETA ").append(eta);
    }
    if (s.failed() > 0) {
      b.append("  ").append(number(s.failed())).append(" failed");
    }
    return b.toString();
  }

  /** The plain line. */
  public static String plain(Snapshot s, long total, double seconds) {
    StringBuilder b = new StringBuilder("dspex: ").append(number(s.done()));
    if (total > 0) {
      b.append('/').append(number(total)).append(" records (").append(percent(s.done(), total)).append("%)");
    } else {
      b.append(" records");
    }
    b.append(", ").append(rate(s.done(), seconds));
    String eta = eta(s.done(), total, seconds);
    if (eta != null) {
      b.append(", ETA ").append(eta);
    }
    return b.append(", ").append(number(s.failed())).append(" failed").toString();
  }

  /** The terminal line while the runner has reported no counts. */
  public static String waitingBar(double seconds) {
    return "running " + duration(Math.round(seconds)) + "  (no record counts from the runner yet)";
  }

  /** The plain line while the runner has reported no counts. */
  public static String waitingPlain(double seconds) {
    return "dspex: running for " + duration(Math.round(seconds)) + ", no record counts from the runner yet";
  }

  private static long percent(long done, long total) {
    return Math.min(100, 100 * done / total);
  }

  private static String counts(Snapshot s, long total) {
    if (total <= 0) {
      return number(s.done());
    }
    return number(s.done()) + "/" + number(total) + "  " + percent(s.done(), total) + "%";
  }

  /** Records per second, e.g. {@code 512/s} or {@code 3.4/s}. */
  public static String rate(long done, double seconds) {
    double r = seconds > 0 ? done / seconds : 0;
    return (r >= 100 ? String.format(Locale.ROOT, "%,.0f", r) : String.format(Locale.ROOT, "%.1f", r)) + "/s";
  }

  /** The time left at the rate so far, {@code m:ss} or {@code h:mm:ss}; null when unknown. */
  static String eta(long done, long total, double seconds) {
    if (total <= 0 || done <= 0 || seconds <= 0) {
      return null;
    }
    long left = Math.max(0, Math.round((total - done) * seconds / done));
    return duration(left);
  }

  /** Seconds as {@code m:ss} or {@code h:mm:ss}. */
  public static String duration(long seconds) {
    long h = seconds / 3600;
    long m = seconds / 60 % 60;
    long sec = seconds % 60;
    return h > 0 ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, sec) : String.format(Locale.ROOT, "%d:%02d", m, sec);
  }

  /** A count with thousands separators. */
  public static String number(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
