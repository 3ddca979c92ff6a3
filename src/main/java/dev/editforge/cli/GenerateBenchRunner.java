package dev.editforge.cli;

import dev.editforge.generate.GenerateBench;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.ingest.IngestJob;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code editforge bench generate [--param k=4] [--param max-new-tokens=24] [--param
 * remote-prompts=2000]}: the self-edit stage through Spark vs a bare generator loop on a tiny
 * random model (same cores), and the remote backend's prompts/s against an instant fake server.
 */
public final class GenerateBenchRunner implements BenchCommand.Bench {
  @Override
  public String description() {
    return "self-edit generation through Spark vs a bare loop, and remote prompts/s";
  }

  @Override
  public Map<String, Object> overrides(Map<String, String> params) {
    try {
      Path dir = Files.createTempDirectory("editforge-bench-generate");
      Path sample = DemoCommand.extractSample(dir.resolve("_sample"));
      Path model = TinyRandomModel.write(dir.resolve("tiny-random"), 64, 2, 1024, 7);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run-dir", dir.resolve("run").toString());
      m.put("ingest.inputs", List.of("squad:" + sample.resolve("articles.json")));
      m.put("generate.backend", "local");
      m.put("generate.model", model.toString());
      m.put("generate.self-edit.k", Integer.parseInt(params.getOrDefault("k", "4")));
      m.put(
          "generate.self-edit.max-new-tokens",
          Integer.parseInt(params.getOrDefault("max-new-tokens", "24")));
      return m;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the bench directory", e);
    }
  }

  @Override
  public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
      throws Exception {
    launch.runner().run(new IngestJob());
    GenerateBench.run(
        launch.context(), out, Integer.parseInt(params.getOrDefault("remote-prompts", "2000")));
    return null;
  }
}
