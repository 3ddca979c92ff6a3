package dev.editforge.llm.hub;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/** Which files of a model repository editforge needs, and the safetensors-only rule. Stateless. */
public final class ModelFiles {
  public static final String CONFIG = "config.json";
  public static final String SHARD_INDEX = "model.safetensors.index.json";

  /** Metadata and tokenizer files, fetched when the repository has them. */
  public static final List<String> METADATA =
      List.of(
          CONFIG,
          "generation_config.json",
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json");

  private static final ObjectMapper JSON = Json.COMPACT;

  private ModelFiles() {}

  /** The plan for one repository: small files first, then the weights. */
  public record Plan(List<String> metadata, boolean sharded, List<String> weights) {}

  /**
   * Chooses the files to fetch from a repository listing. When the repository is sharded the
   * weights list is empty: the shards are named by the index, which must be fetched first ({@link
   * #shardsOf}). Only top-level safetensors count: subfolders hold other formats.
   *
   * @throws HubException PICKLE_ONLY or UNUSABLE when nothing loadable is there
   */
  public static Plan plan(String repo, Collection<String> files) {
    List<String> metadata = new ArrayList<>();
    for (String m : METADATA) {
      if (files.contains(m)) {
        metadata.add(m);
      }
    }
    boolean sharded = files.contains(SHARD_INDEX);
    List<String> weights = new ArrayList<>();
    if (!sharded) {
      for (String f : files) {
        if (!f.contains("/") && f.endsWith(".safetensors")) {
          weights.add(f);
        }
      }
    }
    if (!sharded && weights.isEmpty()) {
      List<String> pickles = files.stream().filter(ModelFiles::isPickle).toList();
      if (!pickles.isEmpty()) {
        throw pickleOnly(repo, pickles);
      }
      throw new HubException(
          HubException.Kind.UNUSABLE,
          repo
              + " has no *.safetensors weights (and no "
              + SHARD_INDEX
              + "); editforge loads only safetensors");
    }
    if (!files.contains(CONFIG)) {
      throw new HubException(
          HubException.Kind.UNUSABLE, repo + " has no config.json; is it a transformers model?");
    }
    return new Plan(List.copyOf(metadata), sharded, List.copyOf(weights));
  }

  /** The distinct shard files a {@code model.safetensors.index.json} names, in first-seen order. */
  public static List<String> shardsOf(Path indexFile) {
    JsonNode map;
    try {
      map = JSON.readTree(indexFile.toFile()).path("weight_map");
    } catch (IOException e) {
      throw new HubException(
          HubException.Kind.UNUSABLE,
          "cannot read shard index " + indexFile + ": " + e.getMessage(),
          e);
    }
    if (!map.isObject() || map.isEmpty()) {
      throw new HubException(
          HubException.Kind.UNUSABLE, "shard index " + indexFile + " has no weight_map");
    }
    Set<String> shards = new LinkedHashSet<>();
    for (Iterator<JsonNode> it = map.elements(); it.hasNext(); ) {
      shards.add(it.next().asText());
    }
    return List.copyOf(shards);
  }

  /** Pickle checkpoints: loading one runs arbitrary code. */
  public static boolean isPickle(String file) {
    String f = file.toLowerCase();
    return f.endsWith(".bin")
        || f.endsWith(".pt")
        || f.endsWith(".pth")
        || f.endsWith(".ckpt")
        || f.endsWith(".pkl")
        || f.endsWith(".pickle");
  }

  /**
   * For a local directory: refuses one that has pickle weights and no safetensors. A directory with
   * neither is left to the loader, which reports the missing files itself.
   */
  public static void checkLocalDir(Path dir) {
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    } catch (IOException e) {
      throw new HubException(
          HubException.Kind.IO, "cannot list model directory " + dir + ": " + e.getMessage(), e);
    }
    boolean safetensors = names.stream().anyMatch(n -> n.endsWith(".safetensors"));
    List<String> pickles = names.stream().filter(ModelFiles::isPickle).sorted().toList();
    if (!safetensors && !pickles.isEmpty()) {
      throw pickleOnly(dir.toString(), pickles);
    }
  }

  static HubException pickleOnly(String where, List<String> pickles) {
    return new HubException(
        HubException.Kind.PICKLE_ONLY,
        where
            + " has only pickle checkpoints ("
            + String.join(", ", pickles.subList(0, Math.min(3, pickles.size())))
            + (pickles.size() > 3 ? ", ..." : "")
            + "). editforge never loads them: unpickling runs arbitrary code"
            + " from the file. Convert once to safetensors in a trusted sandbox, e.g. in Python:"
            + " AutoModelForCausalLM.from_pretrained(src).save_pretrained(dst, safe_serialization=True)"
            + " (or the hub's convert-to-safetensors Space), and point editforge at the result.");
  }
}
