package dev.editforge.llm;

import java.util.List;

/**
 * Anything that completes prompts: the local DJL decoder or a remote OpenAI-compatible server.
 * Results come back in request order, one per request; a failure of one request is reported in its
 * {@link GenerationResult#error()}, never thrown across the batch. Implementations say in their
 * javadoc whether they are thread-safe; the owner closes them.
 */
public interface TextGenerator extends AutoCloseable {
  List<GenerationResult> generate(List<GenerationRequest> requests);

  /** A name for manifests and the {@code model} column, e.g. the hub id or the directory name. */
  String modelName();

  @Override
  void close();
}
