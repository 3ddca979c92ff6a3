package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValueFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Builds the effective configuration. Precedence, highest first:
 *
 * <ol>
 *   <li>{@code --set key=value} overrides (keys relative to the root, e.g. {@code
 *       editforge.ttt.lr});
 *   <li>the {@code --conf FILE} overlay (a local path or a Hadoop URI), or the embedded {@code
 *       conf/local.conf} when none is given;
 *   <li>{@code ${?ENV}} substitutions written in reference.conf (e.g. {@code EDITFORGE_RUN_DIR});
 *   <li>{@code reference.conf}, which documents every key.
 * </ol>
 *
 * JVM system properties are deliberately not a layer: a cluster's {@code spark.*} properties must
 * never leak into editforge's own settings.
 */
public final class ConfigLoader {
  /** Classpath location of the embedded local overlay (a copy of conf/local.conf). */
  public static final String EMBEDDED_LOCAL = "editforge/conf/local.conf";

  private ConfigLoader() {}

  /**
   * {@link #load(Path, List)} with the overlay given as written on the command line: a local path,
   * or a Hadoop URI ({@code file:///…}, {@code hdfs://…}, {@code s3a://…}) read through Hadoop's
   * {@link FileSystem} with {@code hadoop}, its relative {@code include "x.conf"}s resolved beside
   * it on the same file system.
   */
  public static Config load(String location, List<String> sets, Configuration hadoop) {
    if (location == null || !isUri(location)) {
      return load(location == null ? null : Path.of(location), sets);
    }
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(location);
    return merge(parseSets(sets), HadoopIncludes.parse(p, hadoop));
  }

  /**
   * A Hadoop URI rather than a local path: a scheme of two or more characters ({@code C:\x} is a
   * Windows path).
   */
  static boolean isUri(String location) {
    return location.matches("^[a-zA-Z][a-zA-Z0-9+.-]+:.*");
  }

  public static Config load(Path confFile, List<String> sets) {
    Config overrides = parseSets(sets);
    Config overlay;
    if (confFile != null) {
      if (!Files.isRegularFile(confFile)) {
        throw new SettingsException("config file " + confFile + " does not exist or is not a file");
      }
      try {
        overlay =
            ConfigFactory.parseFile(
                confFile.toFile(),
                ConfigParseOptions.defaults()
                    .setAllowMissing(false)
                    .setIncluder(new RequiredIncludes(confFile)));
      } catch (MissingInclude e) {
        throw new SettingsException(e.getMessage());
      } catch (ConfigException e) {
        throw new SettingsException("cannot parse config file " + confFile + ": " + e.getMessage());
      }
    } else {
      overlay = ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), EMBEDDED_LOCAL);
    }
    return merge(overrides, overlay);
  }

  private static Config merge(Config overrides, Config overlay) {
    Config reference;
    try {
      reference =
          ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf");
    } catch (ConfigException e) {
      throw new SettingsException("cannot parse reference.conf: " + e.getMessage());
    }
    Config merged = overrides.withFallback(overlay).withFallback(reference);
    try {
      // resolve() falls back to the process environment for ${?ENV} substitutions.
      merged = merged.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(false));
    } catch (ConfigException.UnresolvedSubstitution e) {
      throw new SettingsException("unresolved substitution: " + e.getMessage());
    } catch (ConfigException e) {
      throw new SettingsException("cannot resolve config: " + e.getMessage());
    }
    KeyValidator.check(
        merged, reference.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true)));
    return merged;
  }

  /** reference.conf's defaults (plus --set style overrides) without the embedded local overlay. */
  public static Config referenceOnly(List<String> sets) {
    Config reference =
        ConfigFactory.parseResources(ConfigLoader.class.getClassLoader(), "reference.conf");
    Config merged = parseSets(sets).withFallback(reference).resolve();
    KeyValidator.check(
        merged, reference.resolve(ConfigResolveOptions.defaults().setAllowUnresolved(true)));
    return merged;
  }

  /**
   * Makes every {@code include} of a conf file required. Typesafe Config skips a missing {@code
   * include "x.conf"} without a word (only {@code include required(...)} fails), so a mistyped
   * include used to run the job on defaults.
   */
  private static final class RequiredIncludes
      implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderClasspath {
    private final Path confFile;
    private ConfigIncluder fallback;

    RequiredIncludes(Path confFile) {
      this.confFile = confFile;
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
      this.fallback = fallback;
      return this;
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
      return required(what, () -> fallback.include(required(context), what));
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, java.io.File what) {
      return required(
          what.getPath(),
          () -> ((ConfigIncluderFile) fallback).includeFile(required(context), what));
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
      return required(
          what,
          () -> ((ConfigIncluderClasspath) fallback).includeResources(required(context), what));
    }

    static ConfigIncludeContext required(ConfigIncludeContext context) {
      return context.setParseOptions(context.parseOptions().setAllowMissing(false));
    }

    private ConfigObject required(String what, java.util.function.Supplier<ConfigObject> include) {
      return required(confFile.toString(), what, include);
    }

    static ConfigObject required(
        String confFile, String what, java.util.function.Supplier<ConfigObject> include) {
      try {
        return include.get();
      } catch (ConfigException.IO e) {
        throw new MissingInclude(
            "config file "
                + confFile
                + " includes \""
                + what
                + "\", which cannot be read: "
                + e.getMessage(),
            e);
      }
    }
  }

  /**
   * Parses an overlay at a Hadoop URI: the file is read through its {@link FileSystem}, and a
   * relative {@code include "x.conf"} is read the same way from beside it (an absolute one, or one
   * with a scheme, as written), required as every include is. {@code include file(...)} and {@code
   * include classpath(...)} keep Typesafe Config's meaning.
   */
  private static final class HadoopIncludes
      implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderClasspath {
    private final org.apache.hadoop.fs.Path file;
    private final Configuration hadoop;
    private ConfigIncluder fallback;

    private HadoopIncludes(org.apache.hadoop.fs.Path file, Configuration hadoop) {
      this.file = file;
      this.hadoop = hadoop;
    }

    static Config parse(org.apache.hadoop.fs.Path file, Configuration hadoop) {
      String text;
      try {
        FileSystem fs = file.getFileSystem(hadoop);
        if (!fs.exists(file) || !fs.getFileStatus(file).isFile()) {
          throw new SettingsException("config file " + file + " does not exist or is not a file");
        }
        try (InputStream in = fs.open(file)) {
          text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      } catch (IOException e) {
        throw new SettingsException("cannot read config file " + file + ": " + e.getMessage());
      }
      try {
        return ConfigFactory.parseString(
            text,
            ConfigParseOptions.defaults()
                .setOriginDescription(file.toString())
                .setSyntax(com.typesafe.config.ConfigSyntax.CONF)
                .setAllowMissing(false)
                .setIncluder(new HadoopIncludes(file, hadoop)));
      } catch (MissingInclude e) {
        throw new SettingsException(e.getMessage());
      } catch (ConfigException e) {
        throw new SettingsException("cannot parse config file " + file + ": " + e.getMessage());
      }
    }

    @Override
    public ConfigIncluder withFallback(ConfigIncluder fallback) {
      this.fallback = fallback;
      return this;
    }

    @Override
    public ConfigObject include(ConfigIncludeContext context, String what) {
      org.apache.hadoop.fs.Path target =
          isUri(what) || what.startsWith("/")
              ? new org.apache.hadoop.fs.Path(what)
              : new org.apache.hadoop.fs.Path(file.getParent(), what);
      try {
        return parse(target, hadoop).root();
      } catch (SettingsException e) {
        throw new MissingInclude(
            "config file "
                + file
                + " includes \""
                + what
                + "\", which cannot be read: "
                + e.getMessage(),
            e);
      }
    }

    @Override
    public ConfigObject includeFile(ConfigIncludeContext context, java.io.File what) {
      return RequiredIncludes.required(
          file.toString(),
          what.getPath(),
          () ->
              ((ConfigIncluderFile) fallback)
                  .includeFile(RequiredIncludes.required(context), what));
    }

    @Override
    public ConfigObject includeResources(ConfigIncludeContext context, String what) {
      return RequiredIncludes.required(
          file.toString(),
          what,
          () ->
              ((ConfigIncluderClasspath) fallback)
                  .includeResources(RequiredIncludes.required(context), what));
    }
  }

  /** A conf file's include that does not exist; the loader turns it into a settings error. */
  private static final class MissingInclude extends RuntimeException {
    MissingInclude(String message, Throwable cause) {
      super(message, cause);
    }
  }

  static Config parseSets(List<String> sets) {
    Config out = ConfigFactory.empty();
    if (sets == null) {
      return out;
    }
    for (String set : sets) {
      int eq = set.indexOf('=');
      if (eq <= 0) {
        throw new SettingsException("--set expects key=value, got \"" + set + "\"");
      }
      String key = set.substring(0, eq).trim();
      String value = set.substring(eq + 1);
      if (!key.startsWith("editforge.")) {
        key = "editforge." + key;
      }
      Config one;
      try {
        // Parse the value as HOCON so numbers, booleans, lists and sizes keep their types;
        // fall back to a plain string for values HOCON cannot parse (paths with ':' etc.).
        one = ConfigFactory.parseString("v = " + value).withFallback(ConfigFactory.empty());
        Object v = one.getValue("v").unwrapped();
        // An unquoted value that HOCON reads differently (hdfs://x loses "//x" as a comment) is
        // taken literally; a quoted one is HOCON's string.
        boolean quoted = value.trim().startsWith("\"");
        if (v instanceof Map || (v instanceof String && !quoted && !value.trim().equals(v))) {
          one = ConfigFactory.empty().withValue("v", ConfigValueFactory.fromAnyRef(value));
        }
      } catch (ConfigException e) {
        one = ConfigFactory.empty().withValue("v", ConfigValueFactory.fromAnyRef(value));
      }
      try {
        out = ConfigFactory.empty().withValue(key, one.getValue("v")).withFallback(out);
      } catch (ConfigException.BadPath e) {
        throw new SettingsException("--set has an invalid key \"" + key + "\": " + e.getMessage());
      }
    }
    return out;
  }
}
