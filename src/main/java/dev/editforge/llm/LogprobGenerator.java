package dev.editforge.llm;

import java.util.List;

/**
 * A {@link TextGenerator} that can also return per-token log-probabilities, batched: the local
 * decoder ({@link LocalGenerator}) and the OpenAI-compatible client ({@code
 * remote.OpenAiGenerator}). Results come back in request order; one request's failure is its
 * result's error. Only the first completion of each request is scored ({@code n} is taken as 1).
 */
public interface LogprobGenerator extends TextGenerator {
  List<LogprobResult> generateWithLogprobs(List<GenerationRequest> requests, LogprobRequest what);
}
