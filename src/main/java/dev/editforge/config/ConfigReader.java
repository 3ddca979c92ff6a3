package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed, validated reads from one section of the config (for example {@code editforge.ttt}). Every
 * failure is a {@link SettingsException} naming the full key, the value and what is allowed.
 * Settings records build themselves with it in a static {@code from(ConfigReader)}. Not
 * thread-safe; create one per section read.
 */
public final class ConfigReader {
  private final Config config;
  private final String prefix;

  public ConfigReader(Config config, String prefix) {
    this.config = config;
    this.prefix = prefix;
  }

  /** The reader of a subsection, e.g. {@code reader.section("lora")}. */
  public ConfigReader section(String key) {
    try {
      return new ConfigReader(config.getConfig(key), full(key));
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a section is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(full(key), raw(key), "must be a section { ... }");
    }
  }

  public boolean has(String key) {
    return config.hasPath(key);
  }

  public Config config() {
    return config;
  }

  public String full(String key) {
    return prefix.isEmpty() ? key : prefix + "." + key;
  }

  public String string(String key) {
    try {
      return config.getString(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a string is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(full(key), raw(key), "must be a string");
    }
  }

  /** A string that may be absent or empty; returns null then. */
  public String optionalString(String key) {
    if (!config.hasPath(key)) {
      return null;
    }
    String s = string(key);
    return s.isEmpty() ? null : s;
  }

  public String nonEmpty(String key) {
    String s = string(key);
    if (s.isBlank()) {
      throw new SettingsException(full(key), s, "must not be empty");
    }
    return s;
  }

  public String oneOf(String key, Collection<String> allowed) {
    String s = string(key);
    if (!allowed.contains(s)) {
      throw new SettingsException(full(key), s, "must be one of " + String.join(", ", allowed));
    }
    return s;
  }

  public <E extends Enum<E>> E enumValue(String key, Class<E> type) {
    String s = string(key);
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      String name = e.name().toLowerCase().replace('_', '-');
      names.add(name);
      if (name.equals(s)) {
        return e;
      }
    }
    throw new SettingsException(full(key), s, "must be one of " + String.join(", ", names));
  }

  public boolean bool(String key) {
    try {
      return config.getBoolean(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "true or false is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(full(key), raw(key), "must be true or false");
    }
  }

  public int integer(String key, int min, int max) {
    return (int) longValue(key, min, max);
  }

  public long longValue(String key, long min, long max) {
    long v;
    try {
      v = config.getLong(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(
          full(key), null, "an integer in [" + min + ", " + max + "] is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(
          full(key), raw(key), "must be an integer in [" + min + ", " + max + "]");
    }
    if (v < min || v > max) {
      throw new SettingsException(
          full(key), raw(key), "must be an integer in [" + min + ", " + max + "]");
    }
    return v;
  }

  public double number(String key, double min, double max) {
    double v;
    try {
      v = config.getDouble(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(
          full(key), null, "a number in [" + min + ", " + max + "] is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(
          full(key), raw(key), "must be a number in [" + min + ", " + max + "]");
    }
    if (!(v >= min && v <= max)) {
      throw new SettingsException(
          full(key), raw(key), "must be a number in [" + min + ", " + max + "]");
    }
    return v;
  }

  /** A size such as {@code 1 MiB} or {@code 1048576}, in bytes. */
  public long bytes(String key, long min, long max) {
    long v;
    try {
      v = config.getBytes(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a size such as 1 MiB is required");
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw new SettingsException(
          full(key), raw(key), "must be a size such as 1 MiB or a byte count");
    }
    if (v < min || v > max) {
      throw new SettingsException(
          full(key), v, "must be a size between " + min + " and " + max + " bytes");
    }
    return v;
  }

  public Duration duration(String key) {
    try {
      return config.getDuration(key);
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a duration such as 30s is required");
    } catch (ConfigException.BadValue | ConfigException.WrongType e) {
      throw new SettingsException(full(key), raw(key), "must be a duration such as 30s or 5m");
    }
  }

  public List<String> strings(String key) {
    try {
      return List.copyOf(config.getStringList(key));
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a list of strings is required");
    } catch (ConfigException.WrongType e) {
      // A single comma-separated string is accepted too, which is what --set k=a,b gives.
      try {
        String s = config.getString(key);
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
          if (!part.isBlank()) {
            out.add(part.trim());
          }
        }
        return List.copyOf(out);
      } catch (ConfigException.WrongType e2) {
        throw new SettingsException(full(key), raw(key), "must be a list of strings");
      }
    }
  }

  public List<Integer> integers(String key) {
    try {
      return List.copyOf(config.getIntList(key));
    } catch (ConfigException.Missing e) {
      throw new SettingsException(full(key), null, "a list of integers is required");
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(full(key), raw(key), "must be a list of integers");
    }
  }

  /** A section whose keys are user-chosen names mapping to strings (e.g. user prompt templates). */
  public Map<String, String> stringMap(String key) {
    Map<String, String> out = new LinkedHashMap<>();
    if (!config.hasPath(key)) {
      return out;
    }
    Config sub;
    try {
      sub = config.getConfig(key);
    } catch (ConfigException.WrongType e) {
      throw new SettingsException(
          full(key), raw(key), "must be a section of name = \"text\" entries");
    }
    for (Map.Entry<String, ConfigValue> e : sub.root().entrySet()) {
      Object v = e.getValue().unwrapped();
      if (!(v instanceof String s)) {
        throw new SettingsException(full(key) + "." + e.getKey(), v, "must be a string");
      }
      out.put(e.getKey(), s);
    }
    return out;
  }

  private Object raw(String key) {
    try {
      return config.getValue(key).unwrapped();
    } catch (ConfigException e) {
      return null;
    }
  }
}
