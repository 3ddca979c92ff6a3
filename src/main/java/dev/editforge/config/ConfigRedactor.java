package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Renders the resolved config for logs and run records with secrets replaced by {@code ***}. A
 * setting is hidden when its key names a credential (see {@link #isSecret}) or when its value holds
 * a secret from the environment ({@code HF_TOKEN}, {@code HUGGING_FACE_HUB_TOKEN}, {@code
 * OPENAI_API_KEY}, and the variable named by any {@code *-env} setting). Everything else is shown
 * as is, so that a run record can reproduce the run: {@code max-new-tokens} is not a token.
 *
 * <p>Thread-safe.
 */
public final class ConfigRedactor {
  public static final String MASK = "***";

  /** Environment variables whose values are secrets even when no setting names them. */
  static final List<String> SECRET_VARIABLES =
      List.of("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "OPENAI_API_KEY");

  /**
   * A word of the key (split at '.', '-', '_' and camelCase) that makes the whole key a credential.
   * {@code token} must be the whole word: {@code max-new-tokens} is a count, {@code session.token}
   * and {@code HF_TOKEN} are secrets.
   */
  private static final Set<String> SECRET_WORDS =
      Set.of("token", "password", "passwd", "credential", "credentials", "apikey");

  /**
   * Phrases over the key's words joined by '.', covering the credential names of Hadoop's
   * connectors: S3A ({@code fs.s3a.access.key}, {@code fs.s3a.secret.key}, {@code
   * fs.s3a.session.token}, {@code fs.s3a.encryption.key}), ABFS/WASB ({@code
   * fs.azure.account.key.<account>}, {@code fs.azure.sas.*}, OAuth client secrets) and GCS ({@code
   * fs.gs.auth.service.account.private.key*}), plus {@code api-key} spelled any way.
   */
  private static final Pattern SECRET_PHRASE =
      Pattern.compile(
          "(^|.*\\.)(api\\.key|access\\.key|account\\.key|private\\.key|encryption\\.key"
              + "|fs\\.azure\\.sas)(\\..*|$)");

  /**
   * Keys that name where a secret comes from, not the secret: {@code api-key-env} names a variable,
   * {@code fs.s3a.aws.credentials.provider} and {@code fs.azure.sas.token.provider.type} name a
   * class.
   */
  private static final Pattern NAMES_A_SOURCE = Pattern.compile(".*\\.(env|provider(\\.type)?)$");

  /** A secret this long is hidden wherever it occurs in a value; a shorter one only as a whole. */
  static final int MIN_EMBEDDED_SECRET = 8;

  // Tests replace the process environment; null means System.getenv().
  private static volatile Map<String, String> environmentOverride;

  private ConfigRedactor() {}

  /** True when {@code key} (a config path, quotes allowed) names a credential. */
  public static boolean isSecret(String key) {
    String words = words(key);
    if (NAMES_A_SOURCE.matcher(words).matches()) {
      return false;
    }
    for (String w : words.split("\\.")) {
      if (SECRET_WORDS.contains(w) || w.contains("secret") || w.contains("password")) {
        return true;
      }
    }
    return SECRET_PHRASE.matcher(words).matches();
  }

  /** The key's words, lower case, joined by '.': {@code keyStorePassword} -> key.store.password. */
  static String words(String key) {
    String spaced = key.replace("\"", "").replaceAll("([a-z0-9])([A-Z])", "$1.$2");
    return spaced.toLowerCase(Locale.ROOT).replaceAll("[._-]+", ".");
  }

  /**
   * The values that must never be shown: the non-blank values of {@link #SECRET_VARIABLES} and of
   * every variable a {@code *-env} setting of {@code config} names.
   */
  public static Set<String> environmentSecrets(Config config) {
    Map<String, String> env = environment();
    Set<String> names = new LinkedHashSet<>(SECRET_VARIABLES);
    if (config != null) {
      for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
        if (e.getKey().endsWith("-env") && e.getValue().unwrapped() instanceof String name) {
          names.add(name);
        }
      }
    }
    Set<String> out = new LinkedHashSet<>();
    for (String name : names) {
      String v = name.isBlank() ? null : env.get(name);
      if (v != null && !v.isBlank()) {
        out.add(v.trim());
      }
    }
    return out;
  }

  /** {@code text} with every secret of the environment (as {@link #environmentSecrets}) hidden. */
  public static String scrub(String text, Config config) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String s : environmentSecrets(config)) {
      if (s.length() >= MIN_EMBEDDED_SECRET) {
        out = out.replace(s, MASK);
      }
    }
    return out;
  }

  public static Config redact(Config config) {
    Set<String> secrets = environmentSecrets(config);
    Config out = config;
    for (Map.Entry<String, ConfigValue> e : config.entrySet()) {
      Object v = e.getValue().unwrapped();
      Object shown =
          isSecret(e.getKey()) && v != null && !String.valueOf(v).isEmpty()
              ? MASK
              : redactValue(v, secrets);
      if (shown != v) {
        out = out.withValue(e.getKey(), ConfigValueFactory.fromAnyRef(shown));
      }
    }
    return out;
  }

  /** {@code v} with secrets hidden; the same instance when there was nothing to hide. */
  private static Object redactValue(Object v, Set<String> secrets) {
    if (secrets.isEmpty()) {
      return v;
    }
    if (v instanceof String s) {
      for (String secret : secrets) {
        if (s.equals(secret) || (secret.length() >= MIN_EMBEDDED_SECRET && s.contains(secret))) {
          return MASK;
        }
      }
      return v;
    }
    if (v instanceof List<?> list) {
      List<Object> out = new ArrayList<>(list.size());
      boolean changed = false;
      for (Object item : list) {
        Object r = redactValue(item, secrets);
        changed |= r != item;
        out.add(r);
      }
      return changed ? out : v;
    }
    if (v instanceof Map<?, ?> map) {
      Map<Object, Object> out = new LinkedHashMap<>();
      boolean changed = false;
      for (Map.Entry<?, ?> e : map.entrySet()) {
        Object r = redactValue(e.getValue(), secrets);
        changed |= r != e.getValue();
        out.put(e.getKey(), r);
      }
      return changed ? out : v;
    }
    return v;
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

  private static Map<String, String> environment() {
    Map<String, String> e = environmentOverride;
    return e != null ? e : System.getenv();
  }

  /**
   * Tests only: look secrets up in {@code env} instead of the process environment until the
   * returned handle is closed. Not for concurrent tests (surefire runs this suite in one thread).
   */
  public static AutoCloseable useEnvironmentForTests(Map<String, String> env) {
    Map<String, String> before = environmentOverride;
    environmentOverride = Map.copyOf(env);
    return () -> environmentOverride = before;
  }
}
