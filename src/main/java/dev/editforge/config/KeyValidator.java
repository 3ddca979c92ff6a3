package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Rejects keys under {@code editforge} that reference.conf does not define, so a typo such as
 * {@code editforge.ttt.learning-rate} fails at start-up instead of being silently ignored. Some
 * sections hold user-chosen names (Spark conf, user prompt templates); they are open.
 */
final class KeyValidator {
  /** Sections whose children are user-chosen names. */
  static final Set<String> OPEN_SECTIONS =
      Set.of(
          "editforge.spark.conf",
          "editforge.generate.self-edit.templates",
          "editforge.generate.reasoning.templates");

  private KeyValidator() {}

  static void check(Config merged, Config reference) {
    if (!merged.hasPath("editforge")) {
      return;
    }
    walk(merged.getObject("editforge"), reference, "editforge");
  }

  private static void walk(ConfigObject object, Config reference, String path) {
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      String key = path + "." + quoteIfNeeded(e.getKey());
      if (OPEN_SECTIONS.contains(path)) {
        continue;
      }
      if (!reference.hasPathOrNull(key)) {
        throw new SettingsException(
            "unknown setting "
                + key
                + suggestion(key, reference, path)
                + " (every key is documented in reference.conf)");
      }
      if (e.getValue().valueType() == ConfigValueType.OBJECT && !OPEN_SECTIONS.contains(key)) {
        walk((ConfigObject) e.getValue(), reference, key);
      }
    }
  }

  private static String quoteIfNeeded(String k) {
    return k.matches("[A-Za-z0-9_-]+") ? k : "\"" + k + "\"";
  }

  private static String suggestion(String key, Config reference, String parent) {
    if (!reference.hasPath(parent)) {
      return "";
    }
    String leaf = key.substring(parent.length() + 1);
    List<String> known = new ArrayList<>(reference.getObject(parent).keySet());
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(leaf, k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    if (best != null && bestDistance <= Math.max(2, leaf.length() / 3)) {
      return "; did you mean " + parent + "." + best + "?";
    }
    return "; known keys here: " + String.join(", ", known.stream().sorted().toList());
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
