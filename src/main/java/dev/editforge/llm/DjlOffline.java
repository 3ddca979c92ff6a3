package dev.editforge.llm;

/**
 * Keeps DJL off the network even when a launcher forgot the flags: before an engine starts, DJL
 * checks {@code ai.djl.offline} (no downloads) and {@code OPT_OUT_TRACKING} (otherwise it reports
 * engine use to AWS), both readable as system properties. Values already set are left alone.
 */
public final class DjlOffline {
  private DjlOffline() {}

  public static void ensure() {
    if (System.getProperty("ai.djl.offline") == null) {
      System.setProperty("ai.djl.offline", "true");
    }
    if (System.getenv("OPT_OUT_TRACKING") == null
        && System.getProperty("OPT_OUT_TRACKING") == null) {
      System.setProperty("OPT_OUT_TRACKING", "true");
    }
  }
}
