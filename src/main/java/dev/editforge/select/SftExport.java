package dev.editforge.select;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import dev.editforge.io.PyJson;
import dev.editforge.io.SftRow;
import dev.editforge.llm.ChatMessage;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes SFT rows as files trainers read directly:
 *
 * <ul>
 *   <li>{@code jsonl} → {@code <name>.jsonl}: TRL prompt-completion lines {@code {"prompt": ...,
 *       "completion": ...}}, formatted as Python's {@code json.dumps(ensure_ascii=False)} — byte
 *       for byte what SEAL's {@code build_SFT_dataset.py} writes for the same rows;
 *   <li>{@code alpaca} → {@code <name>_alpaca.json} (a JSON array of {@code instruction}, {@code
 *       input}, {@code output}, plus {@code system} and {@code history} for rows that have them)
 *       and an entry {@code <name>} in {@code dataset_info.json} mapping LLaMA-Factory's columns
 *       prompt/query/response (and system/history) onto them; other entries of an existing
 *       dataset_info.json are kept;
 *   <li>{@code messages} → {@code <name>_messages.jsonl}: {@code {"messages": [{"role", "content"},
 *       ...]}} per line, for chat trainers.
 * </ul>
 *
 * Each file is written to a temporary name and moved into place, so a reader never sees half a
 * file.
 */
public final class SftExport {
  private SftExport() {}

  public enum Format {
    JSONL,
    ALPACA,
    MESSAGES;

    public String wireName() {
      return name().toLowerCase();
    }

    public static Format fromWire(String s) {
      for (Format f : values()) {
        if (f.wireName().equals(s)) {
          return f;
        }
      }
      throw new IllegalArgumentException(
          "unknown export format \"" + s + "\"; known: jsonl, alpaca, messages");
    }
  }

  /** {@code editforge.select.export}. */
  public record Settings(List<Format> formats, String name) {
    public Settings {
      formats = List.copyOf(formats);
      if (!name.matches("[A-Za-z0-9._-]+")) {
        throw new IllegalArgumentException(
            "export name must be a plain file name, got \"" + name + "\"");
      }
    }

    public static Settings from(ConfigReader r) {
      List<Format> formats = new ArrayList<>();
      for (String s : r.strings("formats")) {
        try {
          formats.add(Format.fromWire(s));
        } catch (IllegalArgumentException e) {
          throw new SettingsException(
              r.full("formats"), s, "each format must be one of jsonl, alpaca, messages");
        }
      }
      String name = r.nonEmpty("name");
      if (!name.matches("[A-Za-z0-9._-]+")) {
        throw new SettingsException(
            r.full("name"), name, "must be a plain file name (letters, digits, . _ -)");
      }
      return new Settings(formats, name);
    }
  }

  /** Writes every format of {@code settings} into {@code dir}; returns the files written. */
  public static List<Path> write(List<SftRow> rows, Path dir, Settings settings)
      throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    for (Format f : settings.formats()) {
      switch (f) {
        case JSONL -> {
          Path p = dir.resolve(settings.name() + ".jsonl");
          atomically(p, w -> writeJsonl(rows, w));
          written.add(p);
        }
        case MESSAGES -> {
          Path p = dir.resolve(settings.name() + "_messages.jsonl");
          atomically(p, w -> writeMessages(rows, w));
          written.add(p);
        }
        case ALPACA -> written.addAll(writeAlpaca(rows, dir, settings.name()));
      }
    }
    return written;
  }

  public static void writeJsonl(List<SftRow> rows, Writer w) throws IOException {
    for (SftRow row : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("prompt", row.prompt());
      m.put("completion", row.completion());
      w.write(PyJson.dumps(m));
      w.write('\n');
    }
  }

  public static void writeMessages(List<SftRow> rows, Writer w) throws IOException {
    for (SftRow row : rows) {
      List<Object> msgs = new ArrayList<>();
      for (ChatMessage c : row.messages()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", c.role());
        m.put("content", c.content());
        msgs.add(m);
      }
      w.write(PyJson.dumps(Map.of("messages", msgs)));
      w.write('\n');
    }
  }

  /** The alpaca array and the dataset_info.json entry; returns both paths. */
  public static List<Path> writeAlpaca(List<SftRow> rows, Path dir, String name)
      throws IOException {
    ObjectMapper json = Json.MAPPER; // indents: both files stay pretty-printed as they always were
    ArrayNode array = json.createArrayNode();
    boolean anySystem = false;
    boolean anyHistory = false;
    for (SftRow row : rows) {
      ObjectNode o = array.addObject();
      o.put("instruction", row.prompt());
      o.put("input", "");
      o.put("output", row.completion());
      List<ChatMessage> turns = row.messages();
      int start = 0;
      if (row.system() != null) {
        o.put("system", row.system());
        anySystem = true;
        start = 1;
      }
      // Turns before the last user/assistant exchange are [user, assistant] history pairs.
      if (turns.size() - start > 2) {
        ArrayNode history = o.putArray("history");
        for (int i = start; i + 1 < turns.size() - 2; i += 2) {
          history.addArray().add(turns.get(i).content()).add(turns.get(i + 1).content());
        }
        anyHistory = true;
      }
    }
    String fileName = name + "_alpaca.json";
    Path data = dir.resolve(fileName);
    atomically(data, w -> w.write(json.writeValueAsString(array) + "\n"));

    Path info = dir.resolve("dataset_info.json");
    ObjectNode all =
        Files.exists(info) ? (ObjectNode) json.readTree(info.toFile()) : json.createObjectNode();
    ObjectNode entry = json.createObjectNode();
    entry.put("file_name", fileName);
    entry.put("formatting", "alpaca");
    ObjectNode columns = entry.putObject("columns");
    columns.put("prompt", "instruction");
    columns.put("query", "input");
    columns.put("response", "output");
    if (anySystem) {
      columns.put("system", "system");
    }
    if (anyHistory) {
      columns.put("history", "history");
    }
    all.set(name, entry);
    JsonNode finalInfo = all;
    atomically(info, w -> w.write(json.writeValueAsString(finalInfo) + "\n"));
    return List.of(data, info);
  }

  private interface Body {
    void write(Writer w) throws IOException;
  }

  private static void atomically(Path target, Body body) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      body.write(w);
    }
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
