package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The weights of a model directory in Hugging Face layout: {@code model.safetensors}, or shards
 * listed by {@code model.safetensors.index.json}, or failing both every {@code *.safetensors} file
 * there. Pickle checkpoints ({@code pytorch_model.bin}, {@code *.pt}, {@code *.pth}) are refused:
 * loading one runs arbitrary code. Thread-safe for reads; the opener closes it (which closes every
 * shard).
 */
public final class SafetensorsCheckpoint implements AutoCloseable {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";

  private final Path directory;
  private final List<SafetensorsFile> files;
  private final Map<String, SafetensorsFile> byTensor;

  private SafetensorsCheckpoint(
      Path directory, List<SafetensorsFile> files, Map<String, SafetensorsFile> byTensor) {
    this.directory = directory;
    this.files = files;
    this.byTensor = byTensor;
  }

  public static SafetensorsCheckpoint open(Path directory) {
    return open(directory, SafetensorsFile.DEFAULT_CHUNK_BYTES);
  }

  static SafetensorsCheckpoint open(Path directory, long chunkBytes) {
    if (!Files.isDirectory(directory)) {
      throw new ModelLoadException(directory, "not a directory");
    }
    Path index = directory.resolve(INDEX_FILE);
    Path single = directory.resolve(SINGLE_FILE);
    List<Path> shardPaths;
    Map<String, String> weightMap = null;
    if (Files.isRegularFile(index)) {
      weightMap = readIndex(index);
      shardPaths = new ArrayList<>();
      for (String shard : new TreeSet<>(weightMap.values())) {
        shardPaths.add(directory.resolve(shard));
      }
    } else if (Files.isRegularFile(single)) {
      shardPaths = List.of(single);
    } else {
      shardPaths = listSafetensors(directory);
      if (shardPaths.isEmpty()) {
        throw noSafetensors(directory);
      }
    }
    List<SafetensorsFile> opened = new ArrayList<>();
    try {
      Map<String, SafetensorsFile> byName = new LinkedHashMap<>();
      Map<String, SafetensorsFile> byFileName = new LinkedHashMap<>();
      for (Path p : shardPaths) {
        SafetensorsFile f = SafetensorsFile.open(p, chunkBytes);
        opened.add(f);
        byFileName.put(p.getFileName().toString(), f);
        if (weightMap == null) {
          for (String name : f.names()) {
            SafetensorsFile previous = byName.putIfAbsent(name, f);
            if (previous != null) {
              throw new ModelLoadException(
                  directory,
                  "tensor "
                      + name
                      + " appears in both "
                      + previous.path().getFileName()
                      + " and "
                      + p.getFileName());
            }
          }
        }
      }
      if (weightMap != null) {
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
          SafetensorsFile f = byFileName.get(e.getValue());
          if (!f.contains(e.getKey())) {
            throw new ModelLoadException(
                f.path(),
                "the index lists tensor "
                    + e.getKey()
                    + " in this shard, but the shard has no such tensor");
          }
          byName.put(e.getKey(), f);
        }
      }
      return new SafetensorsCheckpoint(
          directory, List.copyOf(opened), Collections.unmodifiableMap(byName));
    } catch (RuntimeException e) {
      opened.forEach(SafetensorsFile::close);
      throw e;
    }
  }

  private static Map<String, String> readIndex(Path index) {
    JsonNode root;
    try {
      root = Json.COMPACT.readTree(index.toFile());
    } catch (IOException e) {
      throw new ModelLoadException(index, "is not valid JSON: " + e.getMessage(), e);
    }
    JsonNode map = root == null ? null : root.get("weight_map");
    if (map == null || !map.isObject()) {
      throw new ModelLoadException(index, "has no weight_map object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = map.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      String shard = e.getValue().asText();
      if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..")) {
        throw new ModelLoadException(
            index, "tensor " + e.getKey() + " names an invalid shard file \"" + shard + "\"");
      }
      if (!Files.isRegularFile(index.resolveSibling(shard))) {
        throw new ModelLoadException(index, "lists shard " + shard + ", which is missing");
      }
      out.put(e.getKey(), shard);
    }
    return out;
  }

  private static List<Path> listSafetensors(Path directory) {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory, "*.safetensors")) {
      ds.forEach(out::add);
    } catch (IOException e) {
      throw new ModelLoadException(directory, "cannot list: " + e.getMessage(), e);
    }
    Collections.sort(out);
    return out;
  }

  private static ModelLoadException noSafetensors(Path directory) {
    List<String> pickles = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(directory)) {
      for (Path p : ds) {
        String n = p.getFileName().toString();
        if (n.endsWith(".bin")
            || n.endsWith(".pt")
            || n.endsWith(".pth")
            || n.endsWith(".ckpt")
            || n.equals("pytorch_model.bin.index.json")) {
          pickles.add(n);
        }
      }
    } catch (IOException e) {
      throw new ModelLoadException(directory, "cannot list: " + e.getMessage(), e);
    }
    Collections.sort(pickles);
    if (!pickles.isEmpty()) {
      return new ModelLoadException(
          directory,
          "holds only PyTorch pickle weights ("
              + String.join(", ", pickles)
              + "); editforge loads safetensors only, because unpickling a checkpoint runs arbitrary code"
              + " from the file. Convert it once with: python -c \"from transformers import AutoModelForCausalLM as M;"
              + " d='"
              + directory
              + "'; M.from_pretrained(d).save_pretrained(d, safe_serialization=True)\"");
    }
    return new ModelLoadException(
        directory, "has no " + SINGLE_FILE + ", " + INDEX_FILE + " or other *.safetensors weights");
  }

  public Path directory() {
    return directory;
  }

  /** All tensor names across the shards. */
  public Set<String> names() {
    return byTensor.keySet();
  }

  public boolean contains(String name) {
    return byTensor.containsKey(name);
  }

  public SafetensorsFile.TensorInfo info(String name) {
    return fileOf(name).info(name);
  }

  /** The shard holding {@code name}. */
  public SafetensorsFile fileOf(String name) {
    SafetensorsFile f = byTensor.get(name);
    if (f == null) {
      throw new ModelLoadException(directory, "the checkpoint has no tensor " + name);
    }
    return f;
  }

  public float[] readFloats(String name) {
    return fileOf(name).readFloats(name);
  }

  /** {@link SafetensorsFile#loadInto}: tensor {@code name} into rows of {@code target}. */
  public void loadInto(String name, NDArray target, long rowOffset) {
    fileOf(name).loadInto(name, target, rowOffset);
  }

  /** See {@link SafetensorsFile#load}. */
  public NDArray load(String name, NDManager manager, DataType target) {
    return fileOf(name).load(name, manager, target);
  }

  @Override
  public void close() {
    files.forEach(SafetensorsFile::close);
  }
}
