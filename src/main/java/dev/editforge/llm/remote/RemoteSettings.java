package dev.editforge.llm.remote;

import java.net.URI;
import java.time.Duration;

/**
 * An OpenAI-compatible server (vLLM, TGI, llama.cpp server, Ollama) and how to talk to it; {@code
 * editforge.remote} in the config. The API key itself is never a setting: only the name of the
 * environment variable that holds it, so configs and manifests can be shared.
 *
 * @param endpoint base URL including the API version, e.g. {@code http://gpu-1:8000/v1}
 * @param model the served model name, or null to let the server pick its default
 * @param apiKeyEnv environment variable with the API key, or null for no key
 * @param requestTimeout the most one attempt may take
 * @param maxRowTime the most one request (a row) may take over all its attempts and the waits
 *     between them, counted from its first attempt; when it is spent the row fails with that reason
 */
public record RemoteSettings(
    URI endpoint,
    String model,
    String apiKeyEnv,
    int maxConcurrency,
    Duration connectTimeout,
    Duration requestTimeout,
    int maxRetries,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration maxRowTime) {

  /** The default {@link #maxRowTime}: two whole default request timeouts and the waits between. */
  public static final Duration DEFAULT_MAX_ROW_TIME = Duration.ofSeconds(300);

  public RemoteSettings {
    String e = endpoint.toString();
    while (e.endsWith("/")) {
      e = e.substring(0, e.length() - 1);
    }
    endpoint = URI.create(e);
    if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())
        || endpoint.getHost() == null) {
      throw new IllegalArgumentException(
          "endpoint must be an http(s) URL such as http://host:8000/v1, got " + e);
    }
    model = model == null || model.isBlank() ? null : model;
    apiKeyEnv = apiKeyEnv == null || apiKeyEnv.isBlank() ? null : apiKeyEnv;
    if (maxConcurrency < 1 || maxRetries < 0) {
      throw new IllegalArgumentException("maxConcurrency must be >= 1 and maxRetries >= 0");
    }
    if (!positive(connectTimeout)
        || !positive(requestTimeout)
        || !positive(maxRowTime)
        || initialBackoff.isNegative()
        || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "timeouts must be > 0 and 0 <= initialBackoff <= maxBackoff");
    }
  }

  /** Settings with the default {@link #maxRowTime}. */
  public RemoteSettings(
      URI endpoint,
      String model,
      String apiKeyEnv,
      int maxConcurrency,
      Duration connectTimeout,
      Duration requestTimeout,
      int maxRetries,
      Duration initialBackoff,
      Duration maxBackoff) {
    this(
        endpoint,
        model,
        apiKeyEnv,
        maxConcurrency,
        connectTimeout,
        requestTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        DEFAULT_MAX_ROW_TIME);
  }

  /** Defaults for a vLLM server on this machine; the same values as reference.conf. */
  public static RemoteSettings defaults(URI endpoint, String model) {
    return new RemoteSettings(
        endpoint,
        model,
        "OPENAI_API_KEY",
        16,
        Duration.ofSeconds(10),
        Duration.ofSeconds(120),
        4,
        Duration.ofSeconds(1),
        Duration.ofSeconds(60),
        DEFAULT_MAX_ROW_TIME);
  }

  public RemoteSettings withEndpoint(URI newEndpoint) {
    return new RemoteSettings(
        newEndpoint,
        model,
        apiKeyEnv,
        maxConcurrency,
        connectTimeout,
        requestTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        maxRowTime);
  }

  public RemoteSettings withConcurrency(int newMaxConcurrency) {
    return new RemoteSettings(
        endpoint,
        model,
        apiKeyEnv,
        newMaxConcurrency,
        connectTimeout,
        requestTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        maxRowTime);
  }

  /** Retry and timeout knobs in one go (tests use milliseconds). */
  public RemoteSettings withRetries(
      int newMaxRetries, Duration newInitial, Duration newMax, Duration newRequestTimeout) {
    return new RemoteSettings(
        endpoint,
        model,
        apiKeyEnv,
        maxConcurrency,
        connectTimeout,
        newRequestTimeout,
        newMaxRetries,
        newInitial,
        newMax,
        maxRowTime);
  }

  /** The same settings with another {@link #maxRowTime} (tests use milliseconds). */
  public RemoteSettings withMaxRowTime(Duration newMaxRowTime) {
    return new RemoteSettings(
        endpoint,
        model,
        apiKeyEnv,
        maxConcurrency,
        connectTimeout,
        requestTimeout,
        maxRetries,
        initialBackoff,
        maxBackoff,
        newMaxRowTime);
  }

  private static boolean positive(Duration d) {
    return d != null && !d.isNegative() && !d.isZero();
  }
}
