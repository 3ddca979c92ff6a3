package dev.editforge.llm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one writer of {@code tokenizer.json} for tiny random-weight models (tests' {@code
 * TinyModels}, the demo's {@code generate.TinyRandomModel}, {@code bench ttt}, {@code bench llm}):
 * real files that DJL's tokenizers load, in three styles: byte-level BPE (Llama 3, Qwen2), the
 * SentencePiece style (Mistral: ▁ word prefix, byte fallback) and word-level ({@code t0 t1 ...}).
 * Callers compare generated ids across runs, so a given {@link Vocab} and options always give the
 * same bytes. The {@code tokenizer_config.json} beside it stays with each caller (templates
 * differ).
 *
 * <p>Stateless and thread-safe; each write opens and closes its own file.
 */
public final class TinyTokenizerWriter {
  private TinyTokenizerWriter() {}

  /**
   * Merges shared by the tiny BPE tokenizers: enough that common words become multi-byte tokens.
   */
  private static final String[][] MERGES = {
    {"t", "h"},
    {"h", "e"},
    {"th", "e"},
    {"i", "n"},
    {"a", "n"},
    {"e", "r"},
    {"o", "n"},
    {"e", "d"},
    {"o", "u"},
    {"r", "e"},
    {"i", "s"},
    {"in", "g"},
    {"e", "s"},
    {"a", "t"},
    {"o", "r"},
    {"l", "l"},
    {"l", "o"}
  };

  /** Token text to id, in id order (special tokens included), and the BPE merges in rank order. */
  public record Vocab(
      boolean sentencePiece, Map<String, Integer> ids, List<String> special, List<String> merges) {
    public int id(String token) {
      return ids.get(token);
    }

    public int size() {
      return ids.size();
    }
  }

  /**
   * Byte-level BPE: the 256 byte stand-ins in {@link ByteLevel#alphabet()} order, the shared
   * merges' results, then {@code special}.
   */
  public static Vocab byteLevel(List<String> special) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (char c : ByteLevel.alphabet()) {
      ids.put(String.valueOf(c), ids.size());
    }
    List<String> merges = addMerges(ids, "\u0120");
    special.forEach(s -> ids.put(s, ids.size()));
    return new Vocab(false, ids, List.copyOf(special), merges);
  }

  /**
   * Byte-level without merges: byte {@code b} is id {@code b}, then {@code special} from 256 on.
   */
  public static Vocab bytesOnly(List<String> special) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    char[] alphabet = ByteLevel.byByte();
    for (int i = 0; i < 256; i++) {
      ids.put(String.valueOf(alphabet[i]), i);
    }
    special.forEach(s -> ids.put(s, ids.size()));
    return new Vocab(false, ids, List.copyOf(special), List.of());
  }

  /**
   * SentencePiece style: {@code special} first, the 256 {@code <0xXX>} byte-fallback tokens, ▁,
   * printable ASCII, then the shared merges' results.
   */
  public static Vocab sentencePiece(List<String> special) {
    Map<String, Integer> ids = new LinkedHashMap<>();
    special.forEach(s -> ids.put(s, ids.size()));
    for (int b = 0; b < 256; b++) {
      ids.put(String.format("<0x%02X>", b), ids.size());
    }
    ids.put("\u2581", ids.size());
    for (char c = 33; c < 127; c++) {
      ids.put(String.valueOf(c), ids.size());
    }
    List<String> merges = addMerges(ids, "\u2581");
    return new Vocab(true, ids, List.copyOf(special), merges);
  }

  private static List<String> addMerges(Map<String, Integer> ids, String space) {
    List<String> merges = new ArrayList<>();
    for (String[] m : MERGES) {
      ids.putIfAbsent(m[0] + m[1], ids.size());
      merges.add(m[0] + " " + m[1]);
    }
    ids.putIfAbsent(space + "t", ids.size());
    ids.putIfAbsent(space + "the", ids.size());
    ids.putIfAbsent(space + "a", ids.size());
    merges.add(space + " t");
    merges.add(space + "t he");
    merges.add(space + " a");
    return Collections.unmodifiableList(merges);
  }

  /**
   * Writes {@code dir/tokenizer.json} for {@code v}. {@code nfc}: a byte-level tokenizer normalizes
   * to NFC first (Qwen2 does, Llama 3 does not); {@code bos}: a token the post-processor prepends,
   * or null; {@code pretty}: indented, as the tests' fixtures were always written.
   */
  public static void write(Path dir, Vocab v, boolean nfc, String bos, boolean pretty) {
    write(dir, tokenizerJson(v, nfc, bos), pretty);
  }

  /**
   * Writes a word-level {@code dir/tokenizer.json} whose tokens are t0 .. t{vocab-1}, split on
   * whitespace.
   */
  public static void writeWordLevel(Path dir, int vocab) {
    ObjectNode root = Json.COMPACT.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    root.putArray("added_tokens");
    root.putNull("normalizer");
    root.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
    root.putNull("post_processor");
    root.putNull("decoder");
    ObjectNode model = root.putObject("model");
    model.put("type", "WordLevel");
    ObjectNode ids = model.putObject("vocab");
    for (int i = 0; i < vocab; i++) {
      ids.put("t" + i, i);
    }
    model.put("unk_token", "t0");
    write(dir, root, false);
  }

  private static void write(Path dir, ObjectNode root, boolean pretty) {
    ObjectMapper json = Json.COMPACT;
    try {
      (pretty ? json.writerWithDefaultPrettyPrinter() : json.writer())
          .writeValue(dir.resolve("tokenizer.json").toFile(), root);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write tokenizer.json into " + dir, e);
    }
  }

  /** The {@code tokenizer.json} content of {@link #write}. */
  public static ObjectNode tokenizerJson(Vocab v, boolean nfc, String bos) {
    ObjectNode root = Json.COMPACT.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (String s : v.special()) {
      ObjectNode t = added.addObject();
      t.put("id", v.id(s));
      t.put("content", s);
      t.put("single_word", false);
      t.put("lstrip", false);
      t.put("rstrip", false);
      t.put("normalized", false);
      t.put("special", true);
    }
    boolean sentencePiece = v.sentencePiece();
    if (sentencePiece) {
      ObjectNode norm = root.putObject("normalizer");
      norm.put("type", "Sequence");
      ArrayNode ns = norm.putArray("normalizers");
      ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
      ObjectNode rep = ns.addObject().put("type", "Replace");
      rep.putObject("pattern").put("String", " ");
      rep.put("content", "\u2581");
      root.putNull("pre_tokenizer");
    } else {
      if (nfc) {
        root.putObject("normalizer").put("type", "NFC");
      } else {
        root.putNull("normalizer");
      }
      root.putObject("pre_tokenizer")
          .put("type", "ByteLevel")
          .put("add_prefix_space", false)
          .put("trim_offsets", true)
          .put("use_regex", true);
    }
    if (bos != null) {
      ObjectNode pp = root.putObject("post_processor");
      pp.put("type", "TemplateProcessing");
      ArrayNode single = pp.putArray("single");
      single.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
      single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      ArrayNode pair = pp.putArray("pair");
      pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 0);
      pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
      pair.addObject().putObject("SpecialToken").put("id", bos).put("type_id", 1);
      pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
      ObjectNode st = pp.putObject("special_tokens").putObject(bos);
      st.put("id", bos);
      st.putArray("ids").add(v.id(bos));
      st.putArray("tokens").add(bos);
    } else {
      root.putObject("post_processor")
          .put("type", "ByteLevel")
          .put("add_prefix_space", false)
          .put("trim_offsets", false)
          .put("use_regex", true);
    }
    if (sentencePiece) {
      ObjectNode dec = root.putObject("decoder");
      dec.put("type", "Sequence");
      ArrayNode ds = dec.putArray("decoders");
      ObjectNode rep = ds.addObject().put("type", "Replace");
      rep.putObject("pattern").put("String", "\u2581");
      rep.put("content", " ");
      ds.addObject().put("type", "ByteFallback");
      ds.addObject().put("type", "Fuse");
      ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
    } else {
      root.putObject("decoder")
          .put("type", "ByteLevel")
          .put("add_prefix_space", true)
          .put("trim_offsets", true)
          .put("use_regex", true);
    }
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    if (sentencePiece) {
      model.put("unk_token", "<unk>");
    } else {
      model.putNull("unk_token");
    }
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", sentencePiece);
    model.put("byte_fallback", sentencePiece);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    v.ids()
        .forEach(
            (tok, id) -> {
              if (!v.special().contains(tok) || sentencePiece) {
                vocab.put(tok, id);
              }
            });
    ArrayNode merges = model.putArray("merges");
    v.merges().forEach(merges::add);
    return root;
  }
}
