package dev.editforge.text;

import java.util.List;
import java.util.Map;

/** Lookup shared by the prompt sets: a template by key, or an error listing every known key. */
public final class NamedTemplates {
  private NamedTemplates() {}

  public static String lookup(Map<String, String> templates, String kind, String key) {
    String t = templates.get(key);
    if (t == null) {
      throw new IllegalArgumentException(
          "unknown "
              + kind
              + " prompt \""
              + key
              + "\"; known: "
              + String.join(", ", List.copyOf(templates.keySet())));
    }
    return t;
  }
}
