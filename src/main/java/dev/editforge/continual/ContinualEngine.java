package dev.editforge.continual;

import ai.djl.Device;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.SelfEditSettings;
import dev.editforge.config.TttSettings;
import dev.editforge.judge.Judge;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.LoraGenerator;
import dev.editforge.lora.LoraMerge;
import dev.editforge.lora.LoraStack;
import dev.editforge.lora.LoraTrainer;
import dev.editforge.lora.TrainSample;
import dev.editforge.text.AnswerPrompt;
import dev.editforge.text.TrainSequences;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The model work of one continual step on one device, without Spark: the current model writes a
 * self-edit (SEAL's self-edit prompt and sampling), a fresh LoRA adapter is trained on the edit's
 * train sequences with the passage appended ({@link TrainSequences}, the ttt settings, tokenized as
 * the score stage does) and merged into the model's weights ({@link LoraMerge}); accuracy is the
 * share of an article's questions answered correctly, greedy, with SEAL's answer prompt and no
 * passage, graded by the configured {@link Judge}. Does not own the decoders or the judge.
 */
final class ContinualEngine {
  /** An article as the task needs it. */
  record Article(String articleId, String title, String context, List<Question> questions)
      implements Serializable {
    Article {
      questions = new ArrayList<>(questions);
    }
  }

  record Question(String question, List<String> answers) implements Serializable {
    Question {
      answers = new ArrayList<>(answers);
    }
  }

  /** One article's result: correct answers out of its questions. */
  record Accuracy(int correct, int questions) {
    double value() {
      return questions == 0 ? 0.0 : (double) correct / questions;
    }
  }

  private final EditforgeSettings settings;
  private final TttSettings ttt;
  private final Judge judge;
  private final Device device;

  ContinualEngine(EditforgeSettings settings, Device device, Judge judge) {
    this.settings = settings;
    this.ttt = settings.ttt();
    this.judge = judge;
    this.device = device;
  }

  LoadedDecoder load(Path modelDir) {
    return DecoderLoader.load(modelDir, device, settings.llm());
  }

  /** One self-edit of {@code a} by {@code decoder}'s model, sampled with {@code seed}. */
  String selfEdit(LoadedDecoder decoder, Article a, long seed) {
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    SelfEditSettings se = settings.selfEdit();
    String prompt = se.prompts().render(se.promptKey(), a.title(), a.context());
    SamplingParams sampling =
        new SamplingParams(
            se.maxNewTokens(), se.temperature(), se.topP(), 0, 1, List.of(), List.of(), seed);
    GenerationRequest request =
        settings.generate().chat()
            ? GenerationRequest.chat(a.articleId(), List.of(ChatMessage.user(prompt)), sampling)
            : GenerationRequest.text(a.articleId(), prompt, sampling);
    GenerationResult r =
        new LocalGenerator(decoder, settings.llm(), false).generate(List.of(request)).get(0);
    if (!r.ok() || r.completions().isEmpty()) {
      throw new IllegalStateException(
          "the self-edit of article " + a.articleId() + " failed: " + r.error());
    }
    return r.completions().get(0).text();
  }

  /**
   * Trains a fresh adapter (seeded) on the edit's train sequences and writes the model with the
   * adapter merged in to {@code out}.
   */
  void trainAndMerge(LoadedDecoder decoder, Article a, String edit, long seed, Path out) {
    List<TrainSample> samples = new ArrayList<>();
    for (String s : TrainSequences.build(edit, a.title(), a.context(), ttt.splitNewlines())) {
      samples.add(sample(decoder, s));
    }
    DecoderModel model = decoder.model();
    LoraAdapter init = LoraAdapter.initialize(model.config(), ttt.lora(), seed);
    try (LoraStack stack = LoraStack.of(List.of(init), model.device())) {
      try (LoraTrainer trainer =
          new LoraTrainer(
              model, stack, List.of(samples), ttt.train(), new long[] {seed}, padId(decoder))) {
        trainer.train();
      }
      LoraMerge.saveMerged(model, stack.adapter(0), out);
    }
  }

  /** The accuracy of {@code decoder}'s model on each article, in order. */
  List<Accuracy> accuracies(LoadedDecoder decoder, List<Article> articles) {
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    List<Accuracy> out = new ArrayList<>();
    for (Article a : articles) {
      List<int[]> prompts = new ArrayList<>();
      for (Question q : a.questions()) {
        prompts.add(decoder.tokenizer().encode(AnswerPrompt.render(a.title(), q.question())));
      }
      List<Judge.Item> items = new ArrayList<>();
      int chunk = Math.max(1, ttt.maxGenerationRows());
      for (int p0 = 0; p0 < prompts.size(); p0 += chunk) {
        List<int[]> part = prompts.subList(p0, Math.min(prompts.size(), p0 + chunk));
        int[][][] ids =
            LoraGenerator.greedy(
                decoder.model(),
                null,
                new int[] {0},
                part,
                ttt.maxNewTokens(),
                decoder.eosTokenIds());
        for (int i = 0; i < part.size(); i++) {
          Question q = a.questions().get(p0 + i);
          items.add(
              new Judge.Item(
                  AnswerPrompt.questionField(a.title(), q.question()),
                  q.answers(),
                  decoder.tokenizer().decode(ids[0][i])));
        }
      }
      int right = 0;
      for (boolean ok : judge.correctAll(items)) {
        right += ok ? 1 : 0;
      }
      out.add(new Accuracy(right, items.size()));
    }
    return out;
  }

  /** A train sequence as the score stage tokenizes it (see ttt's LocalEditScorer). */
  private TrainSample sample(LoadedDecoder decoder, String text) {
    LlmTokenizer tok = decoder.tokenizer();
    int[] ids = tok.encode(text);
    if (ids.length > ttt.maxLength()) {
      ids = Arrays.copyOf(ids, ttt.maxLength());
    }
    if (ids.length == 0) {
      ids = new int[] {padId(decoder)};
    }
    int[] labels = ids.clone();
    if (!ttt.endMaskSubstring().isEmpty()) {
      int[] sub = tok.encode(ttt.endMaskSubstring(), false);
      for (int i = 0; sub.length > 0 && i + sub.length <= ids.length; i++) {
        if (Arrays.equals(Arrays.copyOfRange(ids, i, i + sub.length), sub)) {
          Arrays.fill(labels, 0, i + sub.length, TrainSample.IGNORE);
          break;
        }
      }
    }
    return new TrainSample(ids, labels, null, null);
  }

  /** SEAL sets pad = eos. */
  private static int padId(LoadedDecoder decoder) {
    int eos = decoder.tokenizer().eosTokenId();
    if (eos >= 0) {
      return eos;
    }
    List<Integer> ids = decoder.model().config().eosTokenIds();
    return ids.isEmpty() ? 0 : ids.get(0);
  }
}
