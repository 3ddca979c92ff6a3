package dev.editforge.llm.hub;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Where and how to reach the Hugging Face hub, read from the same environment variables as Python's
 * {@code huggingface_hub}, so one exported environment serves both:
 *
 * <ul>
 *   <li>{@code HF_ENDPOINT} (default {@code https://huggingface.co});
 *   <li>cache: {@code HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code
 *       $XDG_CACHE_HOME/huggingface/hub}, else {@code ~/.cache/huggingface/hub};
 *   <li>{@code HF_HUB_OFFLINE=1} (also {@code true}/{@code yes}/{@code on}): cache only;
 *   <li>{@code HF_TOKEN}, else {@code HUGGING_FACE_HUB_TOKEN}: sent as a bearer token.
 * </ul>
 *
 * The token is a secret: {@link #toString()} masks it, and nothing else in this package puts it in
 * a message. Timeouts and retries have production defaults; tests shorten them.
 */
public record HubSettings(
    URI endpoint,
    Path cacheDir,
    String token,
    boolean offline,
    Duration connectTimeout,
    Duration readTimeout,
    int maxRetries,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration progressInterval) {

  public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

  public HubSettings {
    String e = endpoint.toString();
    if (e.endsWith("/")) {
      endpoint = URI.create(e.substring(0, e.length() - 1));
    }
    if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())) {
      throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL, got " + e);
    }
    token = token == null || token.isBlank() ? null : token.trim();
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must be >= 0");
    }
  }

  /** Settings from the process environment. */
  public static HubSettings fromEnvironment() {
    return fromEnv(System.getenv(), Path.of(System.getProperty("user.home")));
  }

  /** Settings from an explicit environment map (tests pass their own). */
  public static HubSettings fromEnv(Map<String, String> env, Path userHome) {
    URI endpoint = URI.create(nonBlank(env.get("HF_ENDPOINT"), DEFAULT_ENDPOINT));
    Path cache;
    if (nonBlank(env.get("HF_HUB_CACHE"), null) != null) {
      cache = Path.of(env.get("HF_HUB_CACHE"));
    } else if (nonBlank(env.get("HF_HOME"), null) != null) {
      cache = Path.of(env.get("HF_HOME"), "hub");
    } else if (nonBlank(env.get("XDG_CACHE_HOME"), null) != null) {
      cache = Path.of(env.get("XDG_CACHE_HOME"), "huggingface", "hub");
    } else {
      cache = userHome.resolve(".cache").resolve("huggingface").resolve("hub");
    }
    String token = nonBlank(env.get("HF_TOKEN"), nonBlank(env.get("HUGGING_FACE_HUB_TOKEN"), null));
    return new HubSettings(
        endpoint,
        cache,
        token,
        isTrue(env.get("HF_HUB_OFFLINE")),
        Duration.ofSeconds(10),
        Duration.ofSeconds(60),
        5,
        Duration.ofSeconds(1),
        Duration.ofSeconds(30),
        Duration.ofSeconds(5));
  }

  public HubSettings withOffline(boolean newOffline) {
    return new HubSettings(
        endpoint,
        cacheDir,
        token,
        newOffline,
        connectTimeout,
        readTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        progressInterval);
  }

  public HubSettings withToken(String newToken) {
    return new HubSettings(
        endpoint,
        cacheDir,
        newToken,
        offline,
        connectTimeout,
        readTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        progressInterval);
  }

  /** Shorter timeouts and backoffs, for tests against a loopback hub. */
  public HubSettings withTiming(
      Duration newReadTimeout,
      int newMaxRetries,
      Duration newInitialBackoff,
      Duration newProgressInterval) {
    return new HubSettings(
        endpoint,
        cacheDir,
        token,
        offline,
        connectTimeout,
        newReadTimeout,
        newMaxRetries,
        newInitialBackoff,
        newInitialBackoff.multipliedBy(4),
        newProgressInterval);
  }

  @Override
  public String toString() {
    return "HubSettings[endpoint="
        + endpoint
        + ", cacheDir="
        + cacheDir
        + ", token="
        + (token == null ? "(none)" : "***")
        + ", offline="
        + offline
        + ", readTimeout="
        + readTimeout
        + ", maxRetries="
        + maxRetries
        + "]";
  }

  private static String nonBlank(String v, String fallback) {
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  private static boolean isTrue(String v) {
    if (v == null) {
      return false;
    }
    String s = v.trim().toLowerCase();
    return s.equals("1") || s.equals("true") || s.equals("yes") || s.equals("on");
  }
}
