package dev.editforge.select;

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
 *       "completion": ...}}, formatted as Python's {@code json.dumps(ensure_ascii=False)};
 *   <li>{@code alpaca} → {@code <name>_alpaca.json} (a JSON array of {@code instruction}, {@code
 *       input}, {@code output}, plus {@code system} and {@code history} for rows that have them)
 *       and an entry {@code <name>} in {@code dataset_info.json} mapping LLaMA-Factory's columns
 *       prompt/query/response (and system/history) onto them;
 *   <li>{@code messages} → {@code <name>_messages.jsonl}: {@code {"messages": [{"role", "content"},
 *       ...]}} per line (TRL's conversational format, ms-swift's {@code messages} format), and an
 *       entry {@code <name>_messages} in {@code dataset_info.json}: LLaMA-Factory's {@code
 *       sharegpt} formatting with OpenAI-style role/content tags.
 * </ul>
 *
 * <p>With {@code extra-fields} on (the default) both JSONL files also carry each row's {@code
 * source}, {@code origin_id} and {@code score} after the trainer's fields, so a line can be traced
 * back to the edit or trace it came from; TRL, LLaMA-Factory and ms-swift ignore columns they do
 * not map. Off, {@code <name>.jsonl} is byte for byte what SEAL's {@code build_SFT_dataset.py}
 * writes. Other entries of an existing dataset_info.json are kept. Each file is written to a
 * temporary name and moved into place, so a reader never sees half a file.
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
  public record Settings(List<Format> formats, String name, boolean extraFields) {
    /** With the extra fields (the default). */
    public Settings(List<Format> formats, String name) {
      this(formats, name, true);
    }

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
      return new Settings(formats, name, r.bool("extra-fields"));
    }

    /** Whether {@code dataset_info.json} is among the files written. */
    public boolean writesDatasetInfo() {
      return formats.contains(Format.ALPACA) || formats.contains(Format.MESSAGES);
    }
  }

  public static final String DATASET_INFO = "dataset_info.json";

  /** Writes every format of {@code settings} into {@code dir}; returns the files written. */
  public static List<Path> write(List<SftRow> rows, Path dir, Settings settings)
      throws IOException {
    Files.createDirectories(dir);
    List<Path> written = new ArrayList<>();
    Map<String, ObjectNode> entries = new LinkedHashMap<>();
    for (Format f : settings.formats()) {
      switch (f) {
        case JSONL -> {
          Path p = dir.resolve(settings.name() + ".jsonl");
          atomically(p, w -> writeJsonl(rows, w, settings.extraFields()));
          written.add(p);
        }
        case MESSAGES -> {
          String file = settings.name() + "_messages.jsonl";
          Path p = dir.resolve(file);
          atomically(p, w -> writeMessages(rows, w, settings.extraFields()));
          written.add(p);
          entries.put(settings.name() + "_messages", sharegptEntry(file));
        }
        case ALPACA -> {
          Path p = dir.resolve(settings.name() + "_alpaca.json");
          written.add(p);
          entries.put(settings.name(), writeAlpaca(rows, p));
        }
      }
    }
    if (!entries.isEmpty()) {
      written.add(writeDatasetInfo(dir, entries));
    }
    return written;
  }

  /** TRL prompt-completion lines, SEAL's bytes (no extra fields). */
  public static void writeJsonl(List<SftRow> rows, Writer w) throws IOException {
    writeJsonl(rows, w, false);
  }

  public static void writeJsonl(List<SftRow> rows, Writer w, boolean extraFields)
      throws IOException {
    for (SftRow row : rows) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("prompt", row.prompt());
      m.put("completion", row.completion());
      if (extraFields) {
        putExtraFields(m, row);
      }
      w.write(PyJson.dumps(m));
      w.write('\n');
    }
  }

  public static void writeMessages(List<SftRow> rows, Writer w, boolean extraFields)
      throws IOException {
    for (SftRow row : rows) {
      List<Object> msgs = new ArrayList<>();
      for (ChatMessage c : row.messages()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", c.role());
        m.put("content", c.content());
        msgs.add(m);
      }
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("messages", msgs);
      if (extraFields) {
        putExtraFields(line, row);
      }
      w.write(PyJson.dumps(line));
      w.write('\n');
    }
  }

  /** Provenance after the trainer's fields: where the row came from and what selected it. */
  private static void putExtraFields(Map<String, Object> m, SftRow row) {
    m.put("source", row.source().wireName());
    m.put("origin_id", row.originId());
    m.put("score", row.score());
  }

  /**
   * LLaMA-Factory's entry for an OpenAI-style messages file ({@code data/README.md}: sharegpt
   * formatting, the {@code messages} column, role/content tags); a leading system message is read
   * as the system prompt through {@code system_tag}.
   */
  static ObjectNode sharegptEntry(String fileName) {
    ObjectNode entry = Json.MAPPER.createObjectNode();
    entry.put("file_name", fileName);
    entry.put("formatting", "sharegpt");
    entry.putObject("columns").put("messages", "messages");
    ObjectNode tags = entry.putObject("tags");
    tags.put("role_tag", "role");
    tags.put("content_tag", "content");
    tags.put("user_tag", "user");
    tags.put("assistant_tag", "assistant");
    tags.put("system_tag", "system");
    return entry;
  }

  /** Adds {@code entries} to {@code dir/dataset_info.json}, keeping the entries already there. */
  static Path writeDatasetInfo(Path dir, Map<String, ObjectNode> entries) throws IOException {
    ObjectMapper json = Json.MAPPER; // indents: the file stays pretty-printed as it always was
    Path info = dir.resolve(DATASET_INFO);
    ObjectNode all =
        Files.exists(info) ? (ObjectNode) json.readTree(info.toFile()) : json.createObjectNode();
    entries.forEach(all::set);
    atomically(info, w -> w.write(json.writeValueAsString(all) + "\n"));
    return info;
  }

  /** Writes the alpaca array to {@code data}; returns its dataset_info.json entry. */
  static ObjectNode writeAlpaca(List<SftRow> rows, Path data) throws IOException {
    ObjectMapper json = Json.MAPPER; // indents: the file stays pretty-printed as it always was
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
    atomically(data, w -> w.write(json.writeValueAsString(array) + "\n"));

    ObjectNode entry = json.createObjectNode();
    entry.put("file_name", data.getFileName().toString());
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
    return entry;
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
