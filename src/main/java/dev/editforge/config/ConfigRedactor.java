package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/** Renders the resolved config for logs and manifests with secrets replaced by {@code ***}. */
public final class ConfigRedactor {
  private static final Pattern SECRET =
      Pattern.compile(".*(token|api-key|apikey|password|secret|credential).*");

  private ConfigRedactor() {}

  public static boolean isSecret(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    // *-env keys name an environment variable, they do not hold the secret itself.
    return SECRET.matcher(k).matches() && !k.endsWith("-env");
  }

  public static Config redact(Config config) {
    Config out = config;
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      if (isSecret(e.getKey())) {
        Object v = e.getValue().unwrapped();
        if (v != null && !String.valueOf(v).isEmpty()) {
          out = out.withValue(e.getKey(), ConfigValueFactory.fromAnyRef("***"));
        }
      }
    }
    return out;
  }

  /** Flat {@code key -> value} view of the redacted {@code editforge} subtree, sorted. */
  public static Map<String, Object> flat(Config config) {
    Map<String, Object> out = new TreeMap<>();
    Config r = redact(config.hasPath("editforge") ? config.withOnlyPath("editforge") : config);
    for (Map.Entry<String, ConfigValue> e : r.entrySet()) {
      out.put(e.getKey(), e.getValue().unwrapped());
    }
    return out;
  }

  public static String render(Config config) {
    Config r = redact(config.hasPath("editforge") ? config.withOnlyPath("editforge") : config);
    return r.root().render(ConfigRenderOptions.concise().setFormatted(true).setJson(false));
  }
}
