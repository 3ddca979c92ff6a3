package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * {@link TextGenerator} on a local {@link DecoderModel}: requests are tokenized (chat requests
 * through the chat template), expanded to one row per sample, sorted by prompt length and decoded
 * in left-padded batches of up to {@link LlmSettings#maxBatchSize()} rows with a KV cache.
 *
 * <p>Per-request semantics: a prompt that leaves no room in the context window fails that request
 * alone (or is cut from the left with {@code truncate-prompt}); completion length is capped by the
 * window; stop token ids (the request's plus the model's eos ids) end a completion and are kept in
 * its token ids but not its text; stop strings end it with the text cut before the string. Each
 * sample draws from its own random stream seeded by (seed, sample index), so its text does not
 * depend on batch mates.
 *
 * <p>Its decode loop is editforge's one KV-cached decode loop: {@link #greedyIds} offers it on
 * token ids, without a tokenizer ({@code lora.LoraGenerator} answers through it).
 *
 * <p>Not thread-safe: use one generator per task thread (they may share a {@link LoadedDecoder}).
 * Closes the decoder on {@link #close()} only when constructed as its owner. {@link #greedyIds}
 * holds no state; it closes the cache and step arrays it makes and leaves the caller's delta alone.
 */
public final class LocalGenerator implements LogprobGenerator {
  private final LoadedDecoder decoder;
  private final LlmSettings settings;
  private final boolean ownsDecoder;
  private final int contextWindow;
  private final KvBudget kvBudget;

  public LocalGenerator(LoadedDecoder decoder, LlmSettings settings, boolean ownsDecoder) {
    this.decoder = decoder;
    this.settings = settings;
    this.ownsDecoder = ownsDecoder;
    this.kvBudget = KvBudget.of(settings, decoder.model());
    int max = decoder.model().config().maxPositionEmbeddings();
    this.contextWindow =
        settings.contextWindow() > 0 ? Math.min(settings.contextWindow(), max) : max;
  }

  /** A prepared request: its prompt ids, or the error that fails it. */
  private record Prepared(
      GenerationRequest request, int[] promptIds, int maxNewTokens, String error) {}

  /** One sequence being decoded: sample {@code sample} of request {@code request}. */
  private static final class Row {
    final int request;
    final int sample;
    final int[] prompt;
    final int maxNew;
    final SamplingParams sampling;
    final Set<Integer> stopIds;
    final SplittableRandom rng;
    final IncrementalDetokenizer
        text; // null for token-id rows (greedyIds): no text, no stop strings
    final List<Integer> generated = new ArrayList<>();
    // Set only when the caller asked for log-probabilities; then every step's logits reach the
    // host.
    RowLogprobs logprobs;
    FinishReason finish;
    String finalText;

    Row(
        int request,
        int sample,
        int[] prompt,
        int maxNew,
        SamplingParams sampling,
        Set<Integer> stopIds,
        LlmTokenizer tokenizer) {
      this.request = request;
      this.sample = sample;
      this.prompt = prompt;
      this.maxNew = maxNew;
      this.sampling = sampling;
      this.stopIds = stopIds;
      this.rng = Sampler.stream(sampling.seed(), sample);
      this.text =
          tokenizer == null
              ? null
              : new IncrementalDetokenizer(tokenizer, prompt, sampling.skipSpecialTokens());
    }

    boolean done() {
      return finish != null;
    }
  }

  /**
   * What a row reports per step: {@code topK} alternatives and the {@code namedIds} (whose texts
   * are {@code names}), with the tokenizer that spells the alternatives.
   */
  private record RowLogprobs(
      int topK,
      int[] namedIds,
      List<String> names,
      LlmTokenizer tokenizer,
      List<TokenLogprobs.Step> steps) {}

  @Override
  public List<GenerationResult> generate(List<GenerationRequest> requests) {
    return generate(requests, null);
  }

  /**
   * As {@link #generate(List)}, each request's first completion with its per-step log-probabilities
   * (of the raw model distribution, before temperature or top-p). A named token the tokenizer does
   * not know is left out of the steps (so it reads as {@link TokenLogprobs#ABSENT}).
   */
  @Override
  public List<LogprobResult> generateWithLogprobs(
      List<GenerationRequest> requests, LogprobRequest what) {
    List<GenerationRequest> single = new ArrayList<>(requests.size());
    for (GenerationRequest r : requests) {
      single.add(
          r.isChat()
              ? GenerationRequest.chat(r.id(), r.messages(), r.sampling().withN(1))
              : GenerationRequest.text(r.id(), r.prompt(), r.sampling().withN(1)));
    }
    List<String> names = new ArrayList<>();
    List<Integer> ids = new ArrayList<>();
    for (String n : what.named()) {
      int id = decoder.tokenizer().specialTokenId(n);
      if (id >= 0) {
        names.add(n);
        ids.add(id);
      }
    }
    int[] namedIds = ids.stream().mapToInt(Integer::intValue).toArray();
    List<Row> rows = new ArrayList<>();
    List<Prepared> prepared = prepareAll(single, rows);
    for (Row r : rows) {
      r.logprobs =
          new RowLogprobs(what.topK(), namedIds, names, decoder.tokenizer(), new ArrayList<>());
    }
    decodeRows(rows, null);
    Row[] byRequest = new Row[prepared.size()];
    for (Row r : rows) {
      byRequest[r.request] = r;
    }
    List<LogprobResult> out = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      Prepared p = prepared.get(i);
      Row r = byRequest[i];
      out.add(
          p.error() != null
              ? LogprobResult.failed(p.request().id(), p.error())
              : new LogprobResult(
                  p.request().id(),
                  new Completion(r.finalText, r.generated, r.finish, r.generated.size()),
                  new TokenLogprobs(r.logprobs.steps()),
                  null));
    }
    return out;
  }

  /** Prepares every request and adds one row per sample of each usable one to {@code rows}. */
  private List<Prepared> prepareAll(List<GenerationRequest> requests, List<Row> rows) {
    List<Prepared> prepared = new ArrayList<>();
    for (GenerationRequest r : requests) {
      prepared.add(prepare(r));
    }
    for (int i = 0; i < prepared.size(); i++) {
      Prepared p = prepared.get(i);
      if (p.error() != null) {
        continue;
      }
      Set<Integer> stop = new HashSet<>(decoder.eosTokenIds());
      stop.addAll(p.request().sampling().stopTokenIds());
      for (int s = 0; s < p.request().sampling().n(); s++) {
        rows.add(
            new Row(
                i,
                s,
                p.promptIds(),
                p.maxNewTokens(),
                p.request().sampling(),
                stop,
                decoder.tokenizer()));
      }
    }
    return prepared;
  }

  /** Decodes rows in length-sorted batches of up to max-batch-size. */
  private void decodeRows(List<Row> rows, BatchDelta adapters) {
    // Similar lengths together: less padding per batch.
    rows.sort(Comparator.comparingInt((Row r) -> r.prompt.length));
    for (int start = 0, end; start < rows.size(); start = end) {
      end = kvBoundedBatchEnd(rows, start);
      decode(decoder.model(), rows.subList(start, end), adapters);
    }
  }

  /**
   * The end of the batch starting at {@code start}: up to max-batch-size rows whose shared cache
   * (rows x (longest prompt + most new tokens)) stays within max-kv-cache-mb; at least one row,
   * which {@link #prepare} made sure fits alone.
   */
  private int kvBoundedBatchEnd(List<Row> rows, int start) {
    int end = start + 1;
    int longest = rows.get(start).prompt.length;
    int most = rows.get(start).maxNew;
    while (end < rows.size() && end - start < settings.maxBatchSize()) {
      Row next = rows.get(end);
      int positions = Math.max(longest, next.prompt.length) + Math.max(most, next.maxNew);
      if (kvBudget.rowsThatFit(positions) < end - start + 1) {
        break;
      }
      longest = Math.max(longest, next.prompt.length);
      most = Math.max(most, next.maxNew);
      end++;
    }
    return end;
  }

  /**
   * As {@link #generate(List)}, with every forward of each decode batch going through the delta
   * {@code adapters} returns for that batch's rows (LoRA: one adapter for all, or one per request).
   */
  public List<GenerationResult> generate(List<GenerationRequest> requests, BatchDelta adapters) {
    List<Row> rows = new ArrayList<>();
    List<Prepared> prepared = prepareAll(requests, rows);
    decodeRows(rows, adapters);
    List<List<Completion>> byRequest = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      byRequest.add(new ArrayList<>());
    }
    rows.sort(Comparator.comparingInt((Row r) -> r.request).thenComparingInt(r -> r.sample));
    for (Row r : rows) {
      byRequest
          .get(r.request)
          .add(new Completion(r.finalText, r.generated, r.finish, r.generated.size()));
    }
    List<GenerationResult> out = new ArrayList<>();
    for (int i = 0; i < prepared.size(); i++) {
      Prepared p = prepared.get(i);
      out.add(
          p.error() != null
              ? GenerationResult.failed(p.request().id(), p.error())
              : new GenerationResult(
                  p.request().id(), byRequest.get(i), p.promptIds().length, null));
    }
    return out;
  }

  private Prepared prepare(GenerationRequest r) {
    int[] ids;
    try {
      if (r.isChat()) {
        String text = decoder.chatTemplate(settings.chatTemplate()).render(r.messages(), true);
        ids = decoder.tokenizer().encode(text, false);
      } else {
        ids = decoder.tokenizer().encode(r.prompt());
      }
    } catch (ChatTemplate.ChatTemplateException e) {
      return new Prepared(r, null, 0, e.getMessage());
    }
    if (ids.length == 0) {
      return new Prepared(
          r, null, 0, "the prompt is empty and the tokenizer adds no BOS token to start from");
    }
    int wanted = r.sampling().maxNewTokens();
    if (ids.length >= contextWindow) {
      if (!settings.truncatePrompt()) {
        return new Prepared(
            r,
            null,
            0,
            "the prompt has "
                + ids.length
                + " tokens; the context window is "
                + contextWindow
                + " (prompt + completion), so no token can be generated");
      }
      // Keep at least half the window for the prompt so a huge max_new_tokens does not erase it.
      int keep = contextWindow - Math.min(Math.max(wanted, 1), contextWindow / 2);
      ids = Arrays.copyOfRange(ids, ids.length - keep, ids.length);
    }
    int maxNew = Math.min(wanted, contextWindow - ids.length);
    String tooBig = kvBudget.refusal(ids.length, maxNew);
    return tooBig != null ? new Prepared(r, null, 0, tooBig) : new Prepared(r, ids, maxNew, null);
  }

  /**
   * Greedy decoding of token-id prompts as one left-padded batch in the given order, every forward
   * through {@code delta} (null: the base model). Row {@code i} ends at a stop id, which is kept as
   * its last id, or after {@code maxNew} ids.
   */
  public static List<List<Integer>> greedyIds(
      DecoderModel model,
      List<int[]> prompts,
      int maxNew,
      Set<Integer> stopIds,
      ProjectionDelta delta) {
    List<Row> batch = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      batch.add(
          new Row(i, 0, prompts.get(i), maxNew, SamplingParams.greedy(maxNew), stopIds, null));
    }
    if (!batch.isEmpty()) {
      decode(model, batch, delta == null ? null : rows -> delta);
    }
    List<List<Integer>> out = new ArrayList<>();
    for (Row r : batch) {
      out.add(r.generated);
    }
    return out;
  }

  /** Decodes one batch of rows to completion with a shared KV cache. */
  private static void decode(DecoderModel model, List<Row> batch, BatchDelta adapters) {
    int b = batch.size();
    int promptLen = 0;
    int maxNew = 0;
    for (Row r : batch) {
      promptLen = Math.max(promptLen, r.prompt.length);
      maxNew = Math.max(maxNew, r.maxNew);
    }
    for (Row r : batch) {
      if (r.maxNew == 0) {
        finish(r, FinishReason.LENGTH);
      }
    }
    if (maxNew == 0) {
      return;
    }
    int vocab = model.config().vocabSize();
    ProjectionDelta delta =
        adapters == null
            ? null
            : adapters.forBatch(batch.stream().mapToInt(r -> r.request).toArray());
    long[] mask = new long[b * promptLen];
    int maskWidth = promptLen;
    long[] ids = new long[b * promptLen];
    long[] positions = new long[b * promptLen];
    int[] nextPosition = new int[b];
    // Without padding no mask is needed: the model then skips masking single-position steps.
    boolean padded = false;
    for (Row r : batch) {
      padded |= r.prompt.length != promptLen;
    }
    for (int i = 0; i < b; i++) {
      int[] p = batch.get(i).prompt;
      int pad = promptLen - p.length;
      for (int t = 0; t < p.length; t++) {
        ids[i * promptLen + pad + t] = p[t];
        positions[i * promptLen + pad + t] = t;
        mask[i * promptLen + pad + t] = 1;
      }
      nextPosition[i] = p.length;
    }
    try (NDManager gen = NDManager.newBaseManager(model.device(), "PyTorch");
        KvCache cache = model.newCache(gen, b, promptLen + maxNew)) {
      // Greedy batches take the argmax on the device: B ids cross to the host instead of B x vocab
      // floats.
      boolean greedyOnly =
          batch.stream().allMatch(r -> r.sampling.isGreedy() && r.logprobs == null);
      StepOutput logits;
      try (NDManager step = gen.newSubManager()) {
        NDArray in = step.create(ids, new Shape(b, promptLen));
        NDArray am = padded ? step.create(mask, new Shape(b, promptLen)) : null;
        NDArray pos = step.create(positions, new Shape(b, promptLen));
        logits =
            fetch(
                model.forward(new DecoderInput(in, am, pos, null, cache, delta, true)), greedyOnly);
      }
      DecodeProfile.Recorder rec = DecodeProfile.recorder();
      long stepStart = rec == null ? 0 : System.nanoTime();
      for (int produced = 0; ; produced++) {
        long t = rec == null ? 0 : System.nanoTime();
        long[] nextIds = new long[b];
        boolean anyActive = false;
        for (int i = 0; i < b; i++) {
          Row r = batch.get(i);
          if (r.done()) {
            continue;
          }
          int token =
              logits.argMax() != null
                  ? (int) logits.argMax()[i]
                  : Sampler.next(logits.logits(), i * vocab, vocab, r.sampling, r.rng);
          if (r.logprobs != null) {
            r.logprobs.steps().add(step(logits.logits(), i * vocab, vocab, token, r.logprobs));
          }
          accept(r, token);
          nextIds[i] = token;
          anyActive |= !r.done();
        }
        if (rec != null) {
          rec.lap(DecodeProfile.Category.DETOKENIZE, t, 0);
          if (produced > 0) {
            rec.step(stepStart);
          }
        }
        if (!anyActive || produced + 1 >= maxNew) {
          break;
        }
        if (rec != null) {
          // A step: the host's input building, the forward, the fetch and the token's acceptance.
          stepStart = System.nanoTime();
          t = stepStart;
        }
        // Widen the mask by one column of ones: finished rows keep computing but are ignored.
        long[] widened = new long[b * (maskWidth + 1)];
        for (int i = 0; i < b; i++) {
          System.arraycopy(mask, i * maskWidth, widened, i * (maskWidth + 1), maskWidth);
          widened[i * (maskWidth + 1) + maskWidth] = 1;
        }
        mask = widened;
        maskWidth++;
        long[] pos = new long[b];
        for (int i = 0; i < b; i++) {
          pos[i] = nextPosition[i]++;
        }
        try (NDManager step = gen.newSubManager()) {
          NDArray in = step.create(nextIds, new Shape(b, 1));
          NDArray am = padded ? step.create(mask, new Shape(b, maskWidth)) : null;
          NDArray ps = step.create(pos, new Shape(b, 1));
          if (rec != null) {
            rec.lap(DecodeProfile.Category.STEP_SETUP, t, padded ? 3 : 2);
          }
          NDArray out = model.forward(new DecoderInput(in, am, ps, null, cache, delta, true));
          t = rec == null ? 0 : System.nanoTime();
          logits = fetch(out, greedyOnly);
          if (rec != null) {
            t = rec.lap(DecodeProfile.Category.SAMPLING, t, 2);
          }
        }
        if (rec != null) {
          rec.lap(DecodeProfile.Category.STEP_SETUP, t, 0);
        }
      }
    }
    for (Row r : batch) {
      if (!r.done()) {
        finish(r, FinishReason.LENGTH);
      }
    }
  }

  /**
   * One step's result on the host: every row's logits, or (greedy batches) just each row's argmax.
   */
  private record StepOutput(float[] logits, long[] argMax) {}

  private static StepOutput fetch(NDArray logits, boolean greedyOnly) {
    return greedyOnly
        ? new StepOutput(null, logits.argMax(2).toLongArray())
        : new StepOutput(logits.toFloatArray(), null);
  }

  /**
   * One step's log-probabilities from a row's logits: log-softmax over the vocabulary, the chosen
   * token, the top {@code topK} and the named tokens.
   */
  static TokenLogprobs.Step step(float[] logits, int off, int vocab, int token, RowLogprobs what) {
    double max = Double.NEGATIVE_INFINITY;
    for (int v = 0; v < vocab; v++) {
      max = Math.max(max, logits[off + v]);
    }
    double sum = 0;
    for (int v = 0; v < vocab; v++) {
      sum += Math.exp(logits[off + v] - max);
    }
    double logZ = max + Math.log(sum);
    java.util.Map<String, Double> top = new java.util.HashMap<>();
    if (what.topK() > 0) {
      // Partial selection: k passes over the row are cheaper than sorting a 32k-150k vocabulary.
      boolean[] taken = new boolean[vocab];
      for (int k = 0; k < Math.min(what.topK(), vocab); k++) {
        int best = -1;
        for (int v = 0; v < vocab; v++) {
          if (!taken[v] && (best < 0 || logits[off + v] > logits[off + best])) {
            best = v;
          }
        }
        taken[best] = true;
        // Distinct ids can decode to the same text (partial UTF-8 bytes): keep the likelier.
        top.merge(
            what.tokenizer().decode(new int[] {best}, false), logits[off + best] - logZ, Math::max);
      }
    }
    for (int n = 0; n < what.namedIds().length; n++) {
      int id = what.namedIds()[n];
      if (id < vocab) {
        top.put(what.names().get(n), logits[off + id] - logZ);
      }
    }
    String text = what.tokenizer().decode(new int[] {token}, false);
    return new TokenLogprobs.Step(token, text, logits[off + token] - logZ, top);
  }

  private static void accept(Row r, int token) {
    r.generated.add(token);
    if (r.stopIds.contains(token)) {
      finish(r, FinishReason.STOP);
      return;
    }
    if (r.text != null) {
      r.text.append(token);
    }
    if (r.text != null && !r.sampling.stop().isEmpty()) {
      String text = r.text.text();
      int cut = -1;
      for (String s : r.sampling.stop()) {
        int at = s.isEmpty() ? -1 : text.indexOf(s);
        if (at >= 0 && (cut < 0 || at < cut)) {
          cut = at;
        }
      }
      if (cut >= 0) {
        r.finalText = text.substring(0, cut);
        r.finish = FinishReason.STOP;
        return;
      }
    }
    if (r.generated.size() >= r.maxNew) {
      finish(r, FinishReason.LENGTH);
    }
  }

  private static void finish(Row r, FinishReason reason) {
    r.finish = reason;
    if (r.finalText == null && r.text != null) {
      r.finalText = r.text.text();
    }
  }

  @Override
  public String modelName() {
    return decoder.name();
  }

  public LoadedDecoder decoder() {
    return decoder;
  }

  @Override
  public void close() {
    if (ownsDecoder) {
      decoder.close();
    }
  }
}
